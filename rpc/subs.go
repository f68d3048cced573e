package rpc

import (
	"context"
	"encoding/json"
	"sync/atomic"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// feeds hands head changes and new pool transactions to the WebSocket
// subscriptions (through the server's hub) and to the polled filters. Both
// run on the path that admitted the block or transaction, so neither does
// work per subscriber here.
type feeds struct {
	a    *api
	hub  *hub
	turn atomic.Uint64 // which of a transaction's topics is served first
}

func newFeeds(a *api, h *hub) *feeds {
	f := &feeds{a: a, hub: h}
	a.Chain.Subscribe(f.onHead)
	a.Pool.SubscribeNewTxs(f.onTxs)
	return f
}

// onHead announces every block that became canonical, oldest first: on a
// reorg, each head of the new branch, as geth does.
func (f *feeds) onHead(ev chain.HeadEvent) {
	added := ev.Added
	if len(added) == 0 {
		added = []*chain.Block{ev.Head}
	}
	hashes := make([]common.Hash, len(added))
	for i, b := range added {
		hashes[i] = b.Hash()
	}
	f.a.filters.add(blockFilter, hashes)
	for _, b := range added {
		f.hub.event()
		err := f.hub.publish(topicHeads, func() ([]byte, error) {
			h, err := f.a.formatHeader(b)
			if err != nil {
				return nil, err
			}
			return json.Marshal(h)
		})
		if err != nil {
			f.a.log.Error("newHeads: block not formatted", "hash", b.Hash(), "err", err)
		}
	}
}

func (f *feeds) onTxs(txs []*types.Transaction) {
	hashes := make([]common.Hash, len(txs))
	for i, tx := range txs {
		hashes[i] = tx.Hash()
	}
	f.a.filters.add(pendingTxFilter, hashes)
	for i, tx := range txs {
		// One event, two topics: they take turns at being served first,
		// so that a short budget serves both alike and, when it runs out,
		// the other's encoding is skipped.
		f.hub.event()
		topics := [2]topic{topicTxHash, topicTxFull}
		if f.turn.Add(1)%2 == 0 {
			topics[0], topics[1] = topics[1], topics[0]
		}
		for _, t := range topics {
			encode := func() ([]byte, error) { return json.Marshal(hashes[i]) }
			if t == topicTxFull {
				encode = func() ([]byte, error) { return json.Marshal(f.a.formatTx(tx, nil)) }
			}
			if err := f.hub.publish(t, encode); err != nil {
				f.a.log.Error("newPendingTransactions: transaction not encoded", "hash", hashes[i], "err", err)
			}
		}
	}
}

var errNotificationsUnsupported = newError(-32601, KindUnsupported, "notifications not supported: subscribe over a WebSocket connection")

func (a *api) subscriptionMethods() map[string]any {
	return map[string]any{
		"eth_subscribe":   a.subscribe,
		"eth_unsubscribe": a.unsubscribe,
	}
}

// subscribe starts a "newHeads", "newPendingTransactions" (with an optional
// true for whole transactions) or "logs" subscription.
func (a *api) subscribe(ctx context.Context, kind string, arg *json.RawMessage) (string, error) {
	conn, ok := connFrom(ctx)
	if !ok {
		return "", errNotificationsUnsupported
	}
	switch kind {
	case "newHeads":
		if arg != nil {
			return "", invalidParams("newHeads takes no argument")
		}
		return conn.subscribe(topicHeads)
	case "newPendingTransactions":
		full := false
		if arg != nil {
			if err := json.Unmarshal(*arg, &full); err != nil {
				return "", invalidParams("newPendingTransactions takes an optional boolean (full transactions): %v", err)
			}
		}
		if full {
			return conn.subscribe(topicTxFull)
		}
		return conn.subscribe(topicTxHash)
	case "logs":
		if arg != nil {
			var q filterQuery
			if err := json.Unmarshal(*arg, &q); err != nil {
				return "", invalidParams("logs criteria: %v", err)
			}
		}
		// No transaction on chaind emits a log: the subscription is valid
		// and stays silent.
		return conn.subscribe(topicLogs)
	}
	return "", invalidParams("no %q subscription: chaind offers newHeads, newPendingTransactions and logs", kind)
}

func (a *api) unsubscribe(ctx context.Context, id string) (bool, error) {
	conn, ok := connFrom(ctx)
	if !ok {
		return false, errNotificationsUnsupported
	}
	return conn.unsubscribe(id), nil
}
