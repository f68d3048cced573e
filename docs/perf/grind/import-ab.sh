#!/usr/bin/env bash
# CPU per imported block on a state of 100,000 accounts, for three chain
# packages in the same run: PRETRIE (accounts in memory, before the state
# trie), TRIE (the trie before the import cut) and the working tree. The
# working tree's chain/grind_bench_test.go is copied into the other two
# (with CompactStore where it is missing), so all three run the same load:
# BenchmarkGrindRandom (blocks of 200 transfers to random addresses) and
# BenchmarkGrindEmpty (empty blocks paying a random address). Each round
# runs the three in turn, starting one later each round, so that a change
# in the machine's load hits all three; the summary gives each round's
# ratios to PRETRIE.
#
#   docs/perf/grind/import-ab.sh PRETRIE TRIE [ROUNDS] [BLOCKS] > OUT
#
# docs/performance.md's figures (from the repository's root):
#   docs/perf/grind/import-ab.sh 966de05 53df372 2 100 > docs/perf/grind/import-ab.txt
set -euo pipefail
pretrie=${1:?usage: import-ab.sh PRETRIE TRIE [ROUNDS] [BLOCKS]}
trie=${2:?usage: import-ab.sh PRETRIE TRIE [ROUNDS] [BLOCKS]}
rounds=${3:-2}
blocks=${4:-100}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

build() { # build NAME [COMMIT]: NAME.test from COMMIT, or from the working tree
  local src=.
  if [ -n "${2:-}" ]; then
    src="$tmp/src-$1"
    mkdir "$src"
    git archive "$2" | tar -x -C "$src"
    cp chain/grind_bench_test.go "$src/chain/"
    if ! grep -qs 'func CompactStore' "$src"/chain/*_test.go; then
      printf 'package chain\n\nimport "github.com/syndtr/goleveldb/leveldb/util"\n\nfunc CompactStore(s *Store) error { return s.db.CompactRange(util.Range{}) }\n' >"$src/chain/compact_ab_test.go"
    fi
  fi
  (cd "$src" && go test -c -o "$tmp/$1.test" ./chain/)
}
build pretrie "$pretrie"
build trie "$trie"
build now

echo "# pretrie = $pretrie, trie = $trie, now = $(git rev-parse --short HEAD) + working tree; $blocks blocks per run"
names=(pretrie trie now)
for r in $(seq "$rounds"); do
  for k in 0 1 2; do
    n=${names[$(((k + r - 1) % 3))]}
    echo "== round $r $n, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    "$tmp/$n.test" -test.run XXX -test.bench 'Grind(Random|Empty)$' -test.benchtime "${blocks}x" | grep '^Benchmark' | sed "s/^/$n /"
  done
done | tee "$tmp/runs"
echo "# CPU per block over pretrie's, per round"
awk '/^== round/ {r=$3} /^(pretrie|trie|now) Benchmark/ {v[r, $1, $2]=$6; if (r>R) R=r}
  END {for (i=1; i<=R; i++) for (b in seen) ; 
    split("BenchmarkGrindRandom-2 BenchmarkGrindEmpty-2", bs, " ");
    for (i=1; i<=R; i++) for (j=1; j<=2; j++) printf "round %d %s: trie %.2f, now %.2f\n", i, bs[j], v[i,"trie",bs[j]]/v[i,"pretrie",bs[j]], v[i,"now",bs[j]]/v[i,"pretrie",bs[j]]}' "$tmp/runs"
