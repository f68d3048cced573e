package rpc

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// feeds fans head changes and new pool transactions out to WebSocket
// subscriptions and to the polled filters.
type feeds struct {
	a     *api
	mu    sync.Mutex
	next  int
	heads map[int]func(any)
	txs   map[int]func(any)
}

func newFeeds(a *api) *feeds {
	f := &feeds{a: a, heads: make(map[int]func(any)), txs: make(map[int]func(any))}
	a.Chain.Subscribe(f.onHead)
	a.Pool.SubscribeNewTxs(f.onTxs)
	return f
}

// attach adds fn to one of the feeds and returns the function that removes it.
func (f *feeds) attach(set map[int]func(any), fn func(any)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.next
	f.next++
	set[id] = fn
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(set, id)
	}
}

func (f *feeds) subscribers(set map[int]func(any)) []func(any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]func(any), 0, len(set))
	for _, fn := range set {
		out = append(out, fn)
	}
	return out
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
	subs := f.subscribers(f.heads)
	if len(subs) == 0 {
		return
	}
	for _, b := range added {
		h, err := f.a.formatHeader(b)
		if err != nil {
			f.a.log.Error("newHeads: block not formatted", "hash", b.Hash(), "err", err)
			continue
		}
		for _, fn := range subs {
			fn(h)
		}
	}
}

func (f *feeds) onTxs(txs []*types.Transaction) {
	hashes := make([]common.Hash, len(txs))
	for i, tx := range txs {
		hashes[i] = tx.Hash()
	}
	f.a.filters.add(pendingTxFilter, hashes)
	for _, fn := range f.subscribers(f.txs) {
		for i, h := range hashes {
			fn(txNotification{hash: h, tx: txs[i], a: f.a})
		}
	}
}

// txNotification is a pending transaction as a subscription sends it: its
// hash, or the whole transaction when the subscriber asked for it.
type txNotification struct {
	hash common.Hash
	tx   *types.Transaction
	a    *api
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
		return conn.subscribe(func(notify func(any)) func() { return a.feeds.attach(a.feeds.heads, notify) })
	case "newPendingTransactions":
		full := false
		if arg != nil {
			if err := json.Unmarshal(*arg, &full); err != nil {
				return "", invalidParams("newPendingTransactions takes an optional boolean (full transactions): %v", err)
			}
		}
		return conn.subscribe(func(notify func(any)) func() {
			return a.feeds.attach(a.feeds.txs, func(v any) {
				n := v.(txNotification)
				if full {
					notify(a.formatTx(n.tx, nil))
				} else {
					notify(n.hash)
				}
			})
		})
	case "logs":
		if arg != nil {
			var q filterQuery
			if err := json.Unmarshal(*arg, &q); err != nil {
				return "", invalidParams("logs criteria: %v", err)
			}
		}
		// No transaction on chaind emits a log: the subscription is valid
		// and stays silent.
		return conn.subscribe(func(func(any)) func() { return func() {} })
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
