#!/usr/bin/env bash
# Transaction intake of two chaind versions: chaind node --dev (proof of
# stake) built from commit BEFORE and from the working tree, loaded by the
# working tree's bench tx (which measures one sender recovery in its own
# process before each run: the floor every node pays per transfer), in
# alternating pairs (BEFORE first in odd pairs) so that a change in the
# machine's load hits both.
#
#   docs/perf/intake-ab.sh BEFORE [PAIRS] [TXS] > SUMMARY
#
# docs/performance.md's figures (from the repository's root):
#   OUT=docs/perf/intake-ab docs/perf/intake-ab.sh fad1f4a 5 20000 > docs/perf/intake-ab.txt
#
# Each run's raw output goes to $OUT/PAIR-{before,after}.txt (default
# docs/perf/intake-ab/); the summary prints, per phase and pair, the
# accepted transfers/s and the node's CPU per transfer of both, the
# recovery measured in the same run, and the median with min-max over the
# pairs of the node's CPU per transfer over one recovery.
set -euo pipefail
before=${1:?usage: intake-ab.sh BEFORE [PAIRS] [TXS]}
pairs=${2:-5}
txs=${3:-20000}
out=${OUT:-docs/perf/intake-ab}
mkdir -p "$out"
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/after" ./cmd/chaind
mkdir "$tmp/src"
git archive "$before" | tar -x -C "$tmp/src"
(cd "$tmp/src" && go build -o "$tmp/before" ./cmd/chaind)
bench=("$tmp/after" bench tx --admission-only --txs "$txs" --json)

waitfor() { # waitfor FILE PATTERN: the first line of FILE matching PATTERN
  for _ in $(seq 300); do
    if line=$(grep -m1 -E "$2" "$1" 2>/dev/null); then echo "$line"; return; fi
    sleep 0.1
  done
  echo "timed out waiting for /$2/ in $1" >&2
  cat "$1" >&2
  return 1
}

run() { # run PAIR VERSION
  "$tmp/$2" node --dev --consensus pos --rpc.addr 127.0.0.1:0 --p2p.addr "" --log.level warn >"$tmp/node.log" 2>&1 &
  pid=$!
  local url dir
  url=$(waitfor "$tmp/node.log" '^  RPC:' | awk '{print $2}')
  dir=$(waitfor "$tmp/node.log" '^  Data dir:' | awk '{print $3}')
  echo "# chaind node --dev of $2 ($([ "$2" = before ] && echo "$before" || git rev-parse --short HEAD)), load average $(cut -d' ' -f1-3 /proc/loadavg)" >"$out/$1-$2.txt"
  "${bench[@]}" --rpc "$url" --key "$dir/dev.key" --node-pid "$pid" >>"$out/$1-$2.txt"
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true; pid=
}

for i in $(seq "$pairs"); do
  if [ $((i % 2)) = 1 ]; then run "$i" before; run "$i" after; else run "$i" after; run "$i" before; fi
  echo "pair $i done" >&2
done

echo "chaind node --dev of $before (before) and $(git rev-parse --short HEAD) (after); bench tx --admission-only --txs $txs; $pairs pairs"
field() { tail -1 "$out/$1-$2.txt" | jq -r "$3"; }
stats() { sort -n | awk -v what="$1" '{r[NR]=$1} END {m = NR%2 ? r[(NR+1)/2] : (r[NR/2]+r[NR/2+1])/2; printf "%s: median %.2f, min %.2f, max %.2f over %d pairs\n", what, m, r[1], r[NR], NR}'; }
for ph in 0 1; do
  echo "== $(field 1 after ".phases[$ph].mode")"
  printf '%-5s %16s %16s %18s %20s\n' pair "tx/s b/a" "CPU µs/tx b/a" "recovery µs b/a" "CPU/recovery b/a"
  rb=(); ra=()
  for i in $(seq "$pairs"); do
    b=$(field "$i" before ".phases[$ph].node_cpu_per_recovery"); a=$(field "$i" after ".phases[$ph].node_cpu_per_recovery")
    rb+=("$b"); ra+=("$a")
    printf '%-5s %7.0f/%-8.0f %7.0f/%-8.0f %8.1f/%-9.1f %9.2f/%-10.2f\n' "$i" \
      "$(field "$i" before ".phases[$ph].accepted_tx_per_second")" "$(field "$i" after ".phases[$ph].accepted_tx_per_second")" \
      "$(field "$i" before ".phases[$ph].node_cpu_us_per_tx")" "$(field "$i" after ".phases[$ph].node_cpu_us_per_tx")" \
      "$(field "$i" before .recovery_us)" "$(field "$i" after .recovery_us)" "$b" "$a"
  done
  printf '%s\n' "${rb[@]}" | stats "before: node CPU per transfer / one recovery"
  printf '%s\n' "${ra[@]}" | stats "after: node CPU per transfer / one recovery"
done
