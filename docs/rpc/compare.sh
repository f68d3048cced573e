#!/usr/bin/env bash
# Sends the same JSON-RPC requests to a node and prints each request with the
# HTTP status and the answer, one pair of lines per request. docs/rpc.md
# compares chaind --dev with geth --dev from two runs of it:
#   docs/rpc/compare.sh http://127.0.0.1:8545 0xDEV_ACCOUNT > docs/rpc/NAME.out
# (geth: geth --dev --http --http.api eth,net,web3,txpool,rpc; chaind: chaind node --dev.)
set -uo pipefail
url=$1
from=$2
to=0x000000000000000000000000000000000000dead

post() { # post BODY [extra curl args...]
  local body=$1
  shift
  printf '> %s %s\n' "$*" "$body"
  curl -s -o /tmp/compare.$$ -w '%{http_code} ' -H 'Content-Type: application/json' "$@" --data-binary "$body" "$url"
  head -c 600 /tmp/compare.$$
  echo
}
call() { post "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}"; }

call rpc_modules '[]'
call eth_accounts '[]'
call eth_call "[{\"to\":\"$to\",\"data\":\"0x\"},\"latest\"]"
call eth_call "[{\"from\":\"$from\",\"to\":\"$to\",\"value\":\"0x1\",\"data\":\"0xa9059cbb\"},\"latest\"]"
call eth_call '[{"data":"0x6000"},"latest"]'
call eth_estimateGas "[{\"from\":\"$from\",\"to\":\"$to\",\"value\":\"0x1\"}]"
call eth_estimateGas "[{\"from\":\"$from\",\"to\":\"$to\",\"data\":\"0x01\"}]"
call eth_estimateGas "[{\"from\":\"$to\",\"to\":\"$from\",\"value\":\"0x1000000000000000000000\"}]"
call eth_getCode "[\"$to\",\"latest\"]"
call eth_getStorageAt "[\"$to\",\"0x0\",\"latest\"]"
call eth_getLogs '[{"fromBlock":"0x0"}]'
call eth_getLogs '[{"fromBlock":"0x0","blockHash":"0x0000000000000000000000000000000000000000000000000000000000000001"}]'
call eth_getLogs '[{"blockHash":"0x0000000000000000000000000000000000000000000000000000000000000001"}]'
call eth_getLogs '[{"topics":[null,null,null,null,null]}]'
call eth_feeHistory '[4,"latest",[]]'
call eth_feeHistory '["4","latest",[]]'
call eth_feeHistory '["0x4","latest",[]]'
call eth_feeHistory '[0,"latest",[]]'
call eth_feeHistory "[1,\"latest\",[$(seq -s, 0 100)]]"
call eth_subscribe '["newHeads"]'
call eth_newBlockFilter '[]'
call eth_getFilterChanges '["0x1234"]'
call eth_getUncleCountByBlockNumber '["0x0"]'
call eth_getBlockTransactionCountByNumber '["0x999999"]'
call eth_getTransactionByBlockNumberAndIndex '["0x0","0x0"]'
call txpool_inspect '[]'
call txpool_contentFrom "[\"$from\"]"
call eth_mining '[]'
call eth_coinbase '[]'
call eth_sendTransaction "[{\"from\":\"$from\",\"to\":\"$to\",\"value\":\"0x1\"}]"
call eth_getProof "[\"$to\",[],\"latest\"]"
call admin_addPeer '["127.0.0.1:1"]'
post $'{"jsonrpc":"2.0","id":"\xff\xfe","method":"eth_chainId"}'
post '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' -H 'Host: attacker.example'
post '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' -H 'Origin: http://attacker.example'
post '' -X OPTIONS -H 'Origin: http://attacker.example' -H 'Access-Control-Request-Method: POST'
rm -f /tmp/compare.$$
