#!/usr/bin/env bash
# eth_getBalance of a busy account at an old height against "latest"
# (BenchmarkGetBalanceOldHeight, rpc/balance_bench_test.go), for the rpc
# package of commit BEFORE (with the working tree's benchmark file copied
# in) and of the working tree, in alternating pairs (BEFORE first in odd
# pairs), so that a change in the machine's load hits both.
#
#   docs/perf/balance-ab.sh BEFORE [PAIRS] > OUT
#
# docs/performance.md's figures (from the repository's root):
#   docs/perf/balance-ab.sh 53df372 3 > docs/perf/balance-ab.txt
set -euo pipefail
before=${1:?usage: balance-ab.sh BEFORE [PAIRS]}
pairs=${2:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src"
git archive "$before" | tar -x -C "$tmp/src"
cp rpc/balance_bench_test.go "$tmp/src/rpc/"
(cd "$tmp/src" && go test -c -o "$tmp/before.test" ./rpc/)
go test -c -o "$tmp/after.test" ./rpc/
echo "# before = $before, after = $(git rev-parse --short HEAD)"
run() { # run PAIR VERSION
  echo "== pair $1 $2, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  "$tmp/$2.test" -test.run XXX -test.bench 'GetBalanceOldHeight$' -test.benchtime 3000x | grep '^Benchmark' | sed "s/^/$2 /"
}
for i in $(seq "$pairs"); do
  if [ $((i % 2)) = 1 ]; then run "$i" before; run "$i" after; else run "$i" after; run "$i" before; fi
done
