package rpc

import (
	"context"
	"sync"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// headLog keeps the node's recent head changes so that an observer (the
// testnet supervisor) sees every reorg, however quickly the next one follows.
type headLog struct {
	clk    clock.Clock
	mu     sync.Mutex
	events []headEventJSON
	next   uint64
}

const maxHeadEvents = 20_000

type headEventJSON struct {
	Seq     hexutil.Uint64 `json:"seq"`
	TimeMs  int64          `json:"timeMs"`
	Hash    common.Hash    `json:"hash"`
	Number  hexutil.Uint64 `json:"number"`
	Removed []common.Hash  `json:"removed"` // blocks taken off the canonical chain, newest first
	Added   []common.Hash  `json:"added"`   // blocks that became canonical, oldest first
}

func newHeadLog(c *chain.Chain, clk clock.Clock) *headLog {
	l := &headLog{clk: clk}
	c.Subscribe(l.record)
	return l
}

func (l *headLog) record(ev chain.HeadEvent) {
	e := headEventJSON{TimeMs: l.clk.Now().UnixMilli(), Hash: ev.Head.Hash(), Number: hexutil.Uint64(ev.Head.Height()),
		Removed: make([]common.Hash, len(ev.Removed)), Added: make([]common.Hash, len(ev.Added))}
	for i, b := range ev.Removed {
		e.Removed[i] = b.Hash()
	}
	for i, b := range ev.Added {
		e.Added[i] = b.Hash()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e.Seq = hexutil.Uint64(l.next)
	l.next++
	if len(l.events) >= maxHeadEvents {
		l.events = l.events[1:]
	}
	l.events = append(l.events, e)
}

// maxEventsPerCall bounds one chaind_headEvents answer.
const maxEventsPerCall = 1000

// headEvents returns the head changes with sequence number >= since (this
// process's numbering, from 0), oldest first, at most 1000 per call.
func (a *api) headEvents(_ context.Context, since hexutil.Uint64) ([]headEventJSON, error) {
	l := a.heads
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []headEventJSON{}
	for _, e := range l.events {
		if e.Seq >= since && len(out) < maxEventsPerCall {
			out = append(out, e)
		}
	}
	return out, nil
}
