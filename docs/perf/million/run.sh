#!/usr/bin/env bash
# 1,000,000 accounts: BenchmarkMillionAccounts (chain/million_bench_test.go)
# for the chain package of commit PRETRIE (accounts in memory, before the
# state trie; the working tree's benchmark file copied in) and of the working
# tree, one process each, one after the other: import rate, peak RSS, and a
# new account's read at the height that created it against the head.
#
#   docs/perf/million/run.sh PRETRIE > OUT
#
# docs/performance.md's figures (from the repository's root):
#   docs/perf/million/run.sh 966de05 > docs/perf/million/run.txt
set -euo pipefail
pretrie=${1:?usage: run.sh PRETRIE}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src"
git archive "$pretrie" | tar -x -C "$tmp/src"
cp chain/million_bench_test.go "$tmp/src/chain/"
(cd "$tmp/src" && go test -c -o "$tmp/pretrie.test" ./chain/)
go test -c -o "$tmp/now.test" ./chain/
echo "# pretrie = $pretrie, now = $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- chain || echo ' + working tree')"
for v in pretrie now; do
  echo "== $v, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  "$tmp/$v.test" -test.run XXX -test.bench 'MillionAccounts$' -test.benchtime 1x -test.timeout 60m | grep '^Benchmark' | sed "s/^/$v /"
done
