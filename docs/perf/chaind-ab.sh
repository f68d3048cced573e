#!/usr/bin/env bash
# A/B of two chaind builds as PoS dev nodes (chaind node --dev --consensus pos), each run loaded by
# NEW's bench tx --admission-only --txs 20000, alternating (OLD first in odd pairs).
#   docs/perf/chaind-ab.sh OLD_BINARY NEW_BINARY PAIRS > RESULT.txt
set -euo pipefail
run() { # run BIN LABEL
  local log; log=$(mktemp)
  "$1" node --dev --consensus pos --rpc.addr 127.0.0.1:0 --p2p.addr "" --log.level warn >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do grep -q '^  Data dir:' "$log" && break; sleep 0.1; done
  local url dir
  url=$(grep -m1 '^  RPC:' "$log" | awk '{print $2}'); dir=$(grep -m1 '^  Data dir:' "$log" | awk '{print $3}')
  echo "== $2 load $(cut -d' ' -f1 /proc/loadavg)"
  "$new" bench tx --rpc "$url" --key "$dir/dev.key" --admission-only --txs 20000 --node-pid $pid | grep -E "unbatched|batched" | cut -c1-400
  kill -INT $pid; wait $pid || true; rm -f "$log"
}
old=$1 new=$2
for i in $(seq "$3"); do
  if [ $((i % 2)) = 1 ]; then run "$old" old; run "$new" new; else run "$new" new; run "$old" old; fi
done
