#!/usr/bin/env bash
# Transaction intake through eth_sendRawTransaction: chaind node --dev
# (proof of stake) against geth --dev --dev.period 1, with the same load
# generator and flags, in alternating pairs (geth first in odd pairs, chaind
# first in even ones) so that a change in the machine's load hits both.
#
#   docs/perf/geth-intake.sh [PAIRS] [TXS] > docs/perf/geth-intake.txt
#
# docs/performance.md's figures (from the repository's root):
#   OUT=docs/perf/geth-intake-16 WORKERS=16 docs/perf/geth-intake.sh 5 20000 > docs/perf/geth-intake-16.txt
#   OUT=docs/perf/geth-intake-64 WORKERS=64 docs/perf/geth-intake.sh 5 20000 > docs/perf/geth-intake-64.txt
#   CONSENSUS=pow OUT=docs/perf/geth-intake-pow docs/perf/geth-intake.sh 2 20000 > docs/perf/geth-intake-pow.txt
#
# GETH is the geth binary (default /tmp/rpc-geth/geth; build it with
# GOFLAGS=-mod=mod GOPATH=$(mktemp -d) go install github.com/ethereum/go-ethereum/cmd/geth@v1.17.10).
# CONSENSUS=pow loads a mining chaind dev node instead; WORKERS sets the
# client connections (default 16, bench tx's default on two cores). Each run's raw
# output goes to $OUT/PAIR-NODE.txt (default docs/perf/geth-intake/); the
# summary prints each pair's chaind/geth ratio of accepted transfers/s and
# their median with min-max over the pairs. Both nodes log at warn level
# (geth's info level writes a line per submitted transaction).
set -euo pipefail
pairs=${1:-5}
txs=${2:-20000}
geth=${GETH:-/tmp/rpc-geth/geth}
consensus=${CONSENSUS:-pos}
workers=${WORKERS:-16}
out=${OUT:-docs/perf/geth-intake}
mkdir -p "$out"
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/chaind" ./cmd/chaind
bench=("$tmp/chaind" bench tx --admission-only --txs "$txs" --workers "$workers" --json)

waitfor() { # waitfor FILE PATTERN: the first line of FILE matching PATTERN
  for _ in $(seq 300); do
    if line=$(grep -m1 -E "$2" "$1" 2>/dev/null); then echo "$line"; return; fi
    sleep 0.1
  done
  echo "timed out waiting for /$2/ in $1" >&2
  cat "$1" >&2
  return 1
}

run_geth() { # run_geth PAIR
  rm -rf "$tmp/geth"
  "$geth" --dev --dev.period 1 --datadir "$tmp/geth" --http --http.addr 127.0.0.1 --http.port 0 \
    --http.api eth,net,web3,txpool,debug --port 0 --nodiscover --maxpeers 0 --ipcdisable >"$tmp/geth.log" 2>&1 &
  pid=$!
  local url
  url=http://$(waitfor "$tmp/geth.log" 'HTTP server started' | sed -E 's/.*endpoint=([^ ]+).*/\1/')
  curl -s -H 'Content-Type: application/json' --data '{"jsonrpc":"2.0","id":1,"method":"debug_verbosity","params":[2]}' "$url" >/dev/null
  echo "# geth $("$geth" version | sed -n 2p), load average $(cut -d' ' -f1-3 /proc/loadavg)" >"$out/$1-geth.txt"
  "${bench[@]}" --rpc "$url" --node-pid "$pid" >>"$out/$1-geth.txt"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}

run_chaind() { # run_chaind PAIR
  "$tmp/chaind" node --dev --consensus "$consensus" --rpc.addr 127.0.0.1:0 --p2p.addr "" --log.level warn >"$tmp/chaind.log" 2>&1 &
  pid=$!
  local url dir
  url=$(waitfor "$tmp/chaind.log" '^  RPC:' | awk '{print $2}')
  dir=$(waitfor "$tmp/chaind.log" '^  Data dir:' | awk '{print $3}')
  echo "# chaind node --dev --consensus $consensus, load average $(cut -d' ' -f1-3 /proc/loadavg)" >"$out/$1-chaind.txt"
  "${bench[@]}" --rpc "$url" --key "$dir/dev.key" --node-pid "$pid" >>"$out/$1-chaind.txt"
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true; pid=
}

for i in $(seq "$pairs"); do
  if [ $((i % 2)) = 1 ]; then run_geth "$i"; run_chaind "$i"; else run_chaind "$i"; run_geth "$i"; fi
  echo "pair $i done" >&2
done

echo "chaind node --dev --consensus $consensus vs geth --dev --dev.period 1; bench tx --admission-only --txs $txs --workers $workers; $pairs pairs"
field() { tail -1 "$out/$1-$2.txt" | jq -r ".phases[$3].$4"; }
for ph in 0 1; do
  mode=$(field 1 geth $ph mode)
  echo "== $mode"
  printf '%-5s %12s %12s %6s %22s %22s %22s %14s\n' pair "geth tx/s" "chaind tx/s" ratio "geth p50/p99 ms" "chaind p50/p99 ms" "per tx p50/p99 ms g/c" "CPU µs/tx g/c"
  ratios=()
  for i in $(seq "$pairs"); do
    g=$(field "$i" geth $ph accepted_tx_per_second); c=$(field "$i" chaind $ph accepted_tx_per_second)
    r=$(awk -v c="$c" -v g="$g" 'BEGIN{printf "%.2f", c/g}')
    ratios+=("$r")
    printf '%-5s %12.0f %12.0f %6s %10.2f/%-11.2f %10.2f/%-11.2f %6.3f/%.3f %6.3f/%.3f %6.0f/%.0f\n' "$i" "$g" "$c" "$r" \
      "$(field "$i" geth $ph p50_admission_ms)" "$(field "$i" geth $ph p99_admission_ms)" \
      "$(field "$i" chaind $ph p50_admission_ms)" "$(field "$i" chaind $ph p99_admission_ms)" \
      "$(field "$i" geth $ph p50_admission_ms_per_tx)" "$(field "$i" geth $ph p99_admission_ms_per_tx)" \
      "$(field "$i" chaind $ph p50_admission_ms_per_tx)" "$(field "$i" chaind $ph p99_admission_ms_per_tx)" \
      "$(field "$i" geth $ph node_cpu_us_per_tx)" "$(field "$i" chaind $ph node_cpu_us_per_tx)"
  done
  printf '%s\n' "${ratios[@]}" | sort -n | awk '{r[NR]=$1} END {m = NR%2 ? r[(NR+1)/2] : (r[NR/2]+r[NR/2+1])/2; printf "ratio chaind/geth: median %.2f, min %.2f, max %.2f over %d pairs\n", m, r[1], r[NR], NR}'
done
