package rpc_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// rawCall is an eth_sendRawTransaction call with id and the given params.
func rawCall(id int, params string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"eth_sendRawTransaction","params":%s}`, id, params)
}

func rawParams(t *testing.T, tx *types.Transaction) string {
	t.Helper()
	enc, err := tx.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return `["` + hexutil.Encode(enc) + `"]`
}

// TestBatchRecoversSendersBeforeServing: the senders of a batch's
// eth_sendRawTransaction calls are all recovered (on all cores) before the
// first call is admitted, each exactly once, and every call is answered
// with its hash.
func TestBatchRecoversSendersBeforeServing(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one core: the pool leaves the recoveries to each call")
	}
	n := newTestNode(t, nil)
	const perSender = 20
	var calls []string
	for s := range 3 {
		for nonce := range perSender {
			calls = append(calls, rawCall(len(calls), rawParams(t, transfer(n.g, s, uint64(nonce), 1))))
		}
	}
	var once sync.Once
	var atFirst uint64
	n.pool.SubscribeNewTxs(func([]*types.Transaction) { once.Do(func() { atFirst = chain.SenderRecoveries() }) })
	before := chain.SenderRecoveries()
	_, _, body := n.post("POST", "["+strings.Join(calls, ",")+"]", nil)
	var replies []reply
	if err := json.Unmarshal(body, &replies); err != nil {
		t.Fatalf("%v: %.300s", err, body)
	}
	if len(replies) != len(calls) || n.pool.Len() != len(calls) {
		t.Fatalf("%d replies, %d pooled; want %d of each", len(replies), n.pool.Len(), len(calls))
	}
	for _, r := range replies {
		if r.Error != nil {
			t.Fatalf("call %s refused: %v", r.ID, r.Error)
		}
	}
	if got := atFirst - before; got != uint64(len(calls)) {
		t.Fatalf("%d senders recovered when the first call was admitted, want all %d", got, len(calls))
	}
	if got := chain.SenderRecoveries() - before; got != uint64(len(calls)) {
		t.Fatalf("%d recoveries for %d transfers, want one each", got, len(calls))
	}
}

// TestBatchOfRawTransactionsAnswersAsItsCalls: a batch of
// eth_sendRawTransaction calls of every shape (good, repeated, nonce too
// low, undecodable, odd hex, other spellings of the params that the batch's
// preparation leaves to the call) is answered as the same calls one by one
// are by a node in the same state.
func TestBatchOfRawTransactionsAnswersAsItsCalls(t *testing.T) {
	batched, single := newTestNode(t, nil), newTestNode(t, nil)
	tx0, tx1 := rawParams(t, transfer(batched.g, 0, 0, 1)), rawParams(t, transfer(batched.g, 0, 1, 1))
	other := rawParams(t, transfer(batched.g, 1, 0, 1))
	params := []string{
		tx0, tx1, tx0, // the repeat is already known
		strings.Replace(other, `["`, `[ "`, 1), // not the common spelling: decoded by the call
		strings.Replace(tx1, "0x", "0X", 1),
		`["0x1234"]`, `["0x123"]`, `["0xzz"]`, `[]`, `["0x"]`, `[` + tx0[1:len(tx0)-1] + `,1]`,
		rawParams(t, transfer(batched.g, 2, 5, 1)), // queued behind a nonce gap
		rawParams(t, transfer(batched.g, 2, 0, 1)),
	}
	var calls []string
	for i, p := range params {
		calls = append(calls, rawCall(i, p))
	}
	_, _, got := batched.post("POST", "["+strings.Join(calls, ",")+"]", nil)
	var want []string
	for _, c := range calls {
		_, _, one := single.post("POST", c, nil)
		want = append(want, strings.TrimSpace(string(one)))
	}
	if wantBody := "[" + strings.Join(want, ",") + "]"; strings.TrimSpace(string(got)) != wantBody {
		t.Fatalf("batch answered\n %s\nthe calls one by one\n %s", got, wantBody)
	}
	if batched.pool.Len() != 5 || single.pool.Len() != 5 {
		t.Fatalf("pooled %d batched, %d one by one; want 5", batched.pool.Len(), single.pool.Len())
	}
}
