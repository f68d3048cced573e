#!/usr/bin/env bash
# geth --dev --dev.period 1 after one bench tx --admission-only run: what its pool still holds and how
# many transfers its blocks took, against the 39,936 it accepted.
#   docs/perf/geth-pool-after-run.sh CHAIND_BINARY > docs/perf/geth-pool-after-run.txt
set -euo pipefail
geth=${GETH:-/tmp/rpc-geth/geth}; chaind=$1; dir=$(mktemp -d)
"$geth" --dev --dev.period 1 --datadir "$dir" --http --http.addr 127.0.0.1 --http.port 0 --http.api eth,net,web3,txpool --port 0 --nodiscover --maxpeers 0 --ipcdisable >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q "HTTP server started" "$dir/log" 2>/dev/null && break; sleep 0.1; done
url=http://$(grep -m1 "HTTP server started" "$dir/log" | sed -E 's/.*endpoint=([^ ]+).*/\1/')
call() { curl -s -H 'Content-Type: application/json' --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$url"; }
"$chaind" bench tx --rpc "$url" --admission-only --txs 20000 | grep -E "unbatched|batched" | cut -c1-160
echo "txpool_status: $(call txpool_status '[]')"
head=$(call eth_blockNumber '[]' | jq -r .result)
mined=0
for n in $(seq 1 $((head))); do
  c=$(call eth_getBlockTransactionCountByNumber "[\"$(printf '0x%x' $n)\"]" | jq -r .result)
  mined=$((mined + c))
done
echo "head $((head)); transfers in blocks 1..$((head)): $mined (64 of them fund the senders)"
echo "geth log lines mentioning dropped or discarded transactions: $(grep -ciE 'drop|discard' "$dir/log" || true)"
