package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Bounds on the polled filters of eth_newFilter and friends.
const (
	filterTimeout   = 5 * time.Minute // a filter not polled for this long is removed, as in geth
	maxFilters      = 1000            // installed filters per node
	maxFilterHashes = 10_000          // hashes a filter keeps between polls; older ones are dropped
)

type filterKind int

const (
	blockFilter filterKind = iota
	pendingTxFilter
	logFilter
)

type filter struct {
	kind     filterKind
	fullTx   bool // a pending-transaction filter that answers whole transactions
	hashes   []common.Hash
	lastPoll time.Time
}

// filters holds the installed filters; each expires when not polled.
type filters struct {
	clk clock.Clock
	mu  sync.Mutex
	m   map[string]*filter
}

func newFilters(clk clock.Clock) *filters { return &filters{clk: clk, m: make(map[string]*filter)} }

var errFilterNotFound = newError(CodeServerError, KindNotFound, "filter not found")

// expire drops filters that have not been polled in time; mu is held.
func (f *filters) expire() {
	now := f.clk.Now()
	for id, flt := range f.m {
		if now.Sub(flt.lastPoll) >= filterTimeout {
			delete(f.m, id)
		}
	}
}

func (f *filters) install(kind filterKind, fullTx bool) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expire()
	if len(f.m) >= maxFilters {
		return "", newError(CodeServerError, KindLimit, fmt.Sprintf("too many filters installed (the limit is %d); uninstall some or let them expire", maxFilters))
	}
	var b [16]byte
	rand.Read(b[:])
	id := "0x" + hex.EncodeToString(b[:])
	f.m[id] = &filter{kind: kind, fullTx: fullTx, lastPoll: f.clk.Now()}
	return id, nil
}

// add records new block or transaction hashes in every filter of kind.
func (f *filters) add(kind filterKind, hashes []common.Hash) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expire()
	for _, flt := range f.m {
		if flt.kind != kind {
			continue
		}
		flt.hashes = append(flt.hashes, hashes...)
		if over := len(flt.hashes) - maxFilterHashes; over > 0 {
			flt.hashes = append(flt.hashes[:0], flt.hashes[over:]...)
		}
	}
}

// poll returns and clears what the filter collected since the last poll.
func (f *filters) poll(id string) (filter, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expire()
	flt, ok := f.m[id]
	if !ok {
		return filter{}, errFilterNotFound
	}
	flt.lastPoll = f.clk.Now()
	out := *flt
	flt.hashes = nil
	if out.hashes == nil {
		out.hashes = []common.Hash{}
	}
	return out, nil
}

func (f *filters) kind(id string) (filterKind, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expire()
	flt, ok := f.m[id]
	if ok {
		return flt.kind, true
	}
	return 0, false
}

func (f *filters) uninstall(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.m[id]
	delete(f.m, id)
	return ok
}

func (a *api) filterMethods() map[string]any {
	return map[string]any{
		"eth_getLogs":        a.getLogs,
		"eth_newBlockFilter": func(context.Context) (string, error) { return a.filters.install(blockFilter, false) },
		"eth_newPendingTransactionFilter": func(_ context.Context, fullTx *bool) (string, error) {
			return a.filters.install(pendingTxFilter, fullTx != nil && *fullTx)
		},
		"eth_newFilter": func(_ context.Context, q filterQuery) (string, error) {
			if err := a.checkQuery(&q); err != nil {
				return "", err
			}
			return a.filters.install(logFilter, false)
		},
		"eth_getFilterChanges": a.getFilterChanges,
		"eth_getFilterLogs": func(_ context.Context, id string) ([]*types.Log, error) {
			if k, ok := a.filters.kind(id); !ok || k != logFilter {
				return nil, errFilterNotFound
			}
			return []*types.Log{}, nil
		},
		"eth_uninstallFilter": func(_ context.Context, id string) (bool, error) { return a.filters.uninstall(id), nil },
	}
}

// getFilterChanges answers block and transaction hashes for those filters
// (whole transactions for a pending filter that asked for them, those still
// in the pool), and logs (never any on chaind) for a log filter.
func (a *api) getFilterChanges(_ context.Context, id string) (any, error) {
	flt, err := a.filters.poll(id)
	if err != nil {
		return nil, err
	}
	switch {
	case flt.kind == logFilter:
		return []*types.Log{}, nil
	case flt.fullTx:
		txs := []map[string]any{}
		for _, h := range flt.hashes {
			if tx := a.Pool.Get(h); tx != nil {
				txs = append(txs, a.formatTx(tx, nil))
			}
		}
		return txs, nil
	}
	return flt.hashes, nil
}
