#!/bin/sh
# Grinding: CPU per imported block of 200 transfers among 100,000 funded
# addresses that share their first 12 bits, and among 100,000 random ones
# (chain/grind_bench_test.go). Usage: docs/perf/grind/run.sh OUT
set -e
cd "$(dirname "$0")/../../.."
out=${1:?usage: run.sh OUT}
{
	echo "commit $(git rev-parse --short HEAD)"
	go test -count=1 -run XXX -bench 'Grind(Shared|Random)$' -benchtime 30x ./chain/
} | tee "$out"
awk '/BenchmarkGrindShared/ {s=$5} /BenchmarkGrindRandom/ {r=$5} END {printf "ratio shared/random %.2f\n", s/r}' "$out" | tee -a "$out"
