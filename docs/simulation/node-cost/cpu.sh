#!/bin/sh
# A CPU profile of one simulation (Bitcoin latencies, 1 MB blocks, 600 s,
# seed 1), cumulative by function: usage: cpu.sh CHAIND-BINARY NODES BLOCKS > OUTPUT.txt
set -eu
bin=$1
echo "== nodes $2 blocks $3"
"$bin" sim network --nodes "$2" --blocks "$3" --latency bitcoin --block-time 600s \
	--block-size 1MB --seed 1 --json --cpuprofile cpu.tmp 2>/dev/null | tail -n 1
go tool pprof -top -cum -nodecount=60 "$bin" cpu.tmp 2>/dev/null | sed 1,3d
rm -f cpu.tmp
