#!/bin/sh
# Memory and CPU of one chaind binary's simulations, one run after another,
# each under /usr/bin/time -v: usage: run.sh CHAIND-BINARY > OUTPUT.txt
# The fixed cost per node is the difference in peak RSS between 2,000 and
# 1,000 nodes at one block, over 1,000 nodes.
set -eu
bin=$1
for run in "1000 1" "2000 1" "1000 100" "300 300"; do
	set -- $run
	echo "== nodes $1 blocks $2"
	/usr/bin/time -v "$bin" sim network --nodes "$1" --blocks "$2" --latency bitcoin \
		--block-time 600s --block-size 1MB --seed 1 --json 2>time.tmp | tail -n 1
	grep -E 'User time|System time|Maximum resident' time.tmp
	awk -F': ' '/User time|System time/ { cpu += $2 } END { printf "cpu: %.2f s\n", cpu }' time.tmp
	awk -F': ' -v key="$1x$2" '/Maximum resident/ { print "rss " key ": " $2 " KiB" }' time.tmp >>rss.tmp
done
awk '/rss 1000x1:/ { a = $3 } /rss 2000x1:/ { b = $3 } END { printf "fixed cost per node: %.0f KiB\n", (b - a) / 1000 }' rss.tmp
rm -f time.tmp rss.tmp
