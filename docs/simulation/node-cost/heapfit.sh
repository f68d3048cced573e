#!/bin/sh
# Fits live heap = nodes × (per node + blocks × per block) to two heap.sh
# outputs of one binary (1,000 × 100 and 300 × 300):
# usage: heapfit.sh HEAP-1000x100.txt HEAP-300x300.txt
set -eu
for f in "$1" "$2"; do
	awk '/^== nodes/ { n = $3; b = $5 } /^Showing nodes accounting/ { t = $(NF-1); sub("MB", "", t); print n, b, t }' "$f"
done | awk '
	NR == 1 { n1 = $1; b1 = $2; h1 = $3 * 1024 }
	NR == 2 { n2 = $1; b2 = $2; h2 = $3 * 1024 }
	END {
		# h = n*f + n*b*p, two equations in f and p (KiB)
		p = (h2 - n2 * h1 / n1) / (n2 * b2 - n2 * b1)
		f = h1 / n1 - b1 * p
		printf "live heap %.1f MiB at %d x %d, %.1f MiB at %d x %d\n", h1 / 1024, n1, b1, h2 / 1024, n2, b2
		printf "per node: %.0f KiB\nper node and block: %.2f KiB\n", f, p
	}'
