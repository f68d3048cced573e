#!/bin/sh
# The live heap at the end of one simulation (Bitcoin latencies, 1 MB blocks,
# 600 s, seed 1), while every node is still open, by allocation site:
# usage: heap.sh CHAIND-BINARY NODES BLOCKS > OUTPUT.txt
set -eu
bin=$1
echo "== nodes $2 blocks $3"
"$bin" sim network --nodes "$2" --blocks "$3" --latency bitcoin --block-time 600s \
	--block-size 1MB --seed 1 --json --memprofile heap.tmp 2>/dev/null | tail -n 1
go tool pprof -sample_index=inuse_space -top -nodecount=25 "$bin" heap.tmp 2>/dev/null | sed 1,3d
rm -f heap.tmp
