package testnet

import (
	"context"
	"math"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// pollInterval is how often the supervisor asks each node what it saw. Block
// arrival times come from the nodes themselves (to the millisecond); head
// changes are pulled from each node's event log, so no reorg is missed
// between polls.
const pollInterval = 100 * time.Millisecond

type headEvent struct {
	Seq     hexutil.Uint64 `json:"seq"`
	TimeMs  int64          `json:"timeMs"`
	Hash    common.Hash    `json:"hash"`
	Number  hexutil.Uint64 `json:"number"`
	Removed []common.Hash  `json:"removed"`
	Added   []common.Hash  `json:"added"`
}

type treeNode struct {
	Hash       common.Hash    `json:"hash"`
	ParentHash common.Hash    `json:"parentHash"`
	Number     hexutil.Uint64 `json:"number"`
	Miner      common.Address `json:"miner"`
	TimeMs     hexutil.Uint64 `json:"timestampMs"`
	ReceivedMs int64          `json:"receivedMs"`
}

// watch records node i's blocks and head changes until the testnet stops.
func (s *Supervisor) watch(i int) {
	defer s.wg.Done()
	var (
		current Node
		client  *rpc.Client
		since   uint64
		from    uint64
	)
	t := s.clock.NewTicker(pollInterval)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C():
		}
		p, _ := s.proc(i)
		if p == nil || !p.Alive() {
			continue
		}
		if p != current { // a new process: its event numbering starts again
			current, client, since = p, rpc.NewClient(p.RPCURL()), 0
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var lowest uint64
		since, lowest = s.pollEvents(ctx, i, client, since)
		// Side blocks can arrive a little below the head; a reorg brings in a
		// whole branch from its fork point.
		lo := uint64(1)
		if from > 16 {
			lo = from - 16
		}
		from = s.pollBlocks(ctx, i, client, max(min(lo, lowest), 1))
		if s.opts.Consensus == chain.ConsensusPoS {
			s.pollFinality(ctx, i, client)
		}
		cancel()
	}
}

// pollEvents records node i's head changes from sequence number since on.
// It returns the next sequence number and the lowest height that became
// canonical (math.MaxUint64 if none).
func (s *Supervisor) pollEvents(ctx context.Context, i int, c *rpc.Client, since uint64) (next, lowest uint64) {
	lowest = math.MaxUint64
	for {
		var evs []headEvent
		if err := c.Call(ctx, &evs, "chaind_headEvents", hexutil.Uint64(since)); err != nil || len(evs) == 0 {
			return since, lowest
		}
		s.rec.mu.Lock()
		for _, e := range evs {
			s.rec.Events = append(s.rec.Events, EventRec{Node: i, TimeMs: e.TimeMs, Hash: e.Hash, Height: uint64(e.Number), Removed: e.Removed, Added: e.Added})
			since = uint64(e.Seq) + 1
			if n := uint64(len(e.Added)); n > 0 && uint64(e.Number)+1 >= n {
				lowest = min(lowest, uint64(e.Number)+1-n)
			}
		}
		s.rec.mu.Unlock()
	}
}

// pollBlocks reads node i's block tree from height lo up to its head, and
// returns the head height (or lo on failure).
func (s *Supervisor) pollBlocks(ctx context.Context, i int, c *rpc.Client, lo uint64) uint64 {
	var head hexutil.Uint64
	if err := c.Call(ctx, &head, "eth_blockNumber"); err != nil {
		return lo
	}
	from := lo
	for lo <= uint64(head) {
		hi := min(uint64(head), lo+1000)
		var nodes []treeNode
		if err := c.Call(ctx, &nodes, "chaind_blockTree", hexutil.Uint64(lo), hexutil.Uint64(hi)); err != nil {
			return from
		}
		s.rec.mu.Lock()
		for _, n := range nodes {
			b := s.rec.Blocks[n.Hash]
			if b == nil && n.ReceivedMs == 0 {
				// Received before the node's last start, by no node since:
				// a block of an earlier run (Options.Resume), which the
				// records of this run must not count.
				continue
			}
			if b == nil {
				b = &BlockRec{Hash: n.Hash, Parent: n.ParentHash, Height: uint64(n.Number), Producer: n.Miner, TimeMs: int64(n.TimeMs), SeenMs: map[int]int64{}}
				s.rec.Blocks[n.Hash] = b
			}
			if _, seen := b.SeenMs[i]; !seen && n.ReceivedMs > 0 {
				b.SeenMs[i] = n.ReceivedMs
			}
		}
		s.rec.mu.Unlock()
		lo = hi + 1
	}
	return uint64(head)
}

// pollFinality records node i's finalized checkpoint when it changes.
func (s *Supervisor) pollFinality(ctx context.Context, i int, c *rpc.Client) {
	var f struct {
		Finalized struct {
			Hash   common.Hash     `json:"hash"`
			Number *hexutil.Uint64 `json:"number"`
		} `json:"finalized"`
	}
	if err := c.Call(ctx, &f, "chaind_finality"); err != nil || f.Finalized.Number == nil || *f.Finalized.Number == 0 {
		return
	}
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	recs := s.rec.Finalized[i]
	if len(recs) > 0 && recs[len(recs)-1].Hash == f.Finalized.Hash {
		return
	}
	s.rec.Finalized[i] = append(recs, FinalizedRec{TimeMs: s.nowMs(), Hash: f.Finalized.Hash, Height: uint64(*f.Finalized.Number)})
}

// saveLoop writes the records every few seconds, so a report can be made
// even if the supervisor is killed.
func (s *Supervisor) saveLoop() {
	defer s.wg.Done()
	t := s.clock.NewTicker(3 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C():
			if err := s.rec.save(); err != nil {
				s.log.Warn("Cannot save records", "err", err)
			}
		}
	}
}

// finishRecords stops the miners, gives blocks in flight a moment to settle,
// and asks the live nodes for their final heads and where the sent
// transactions were mined, while they are still up.
func (s *Supervisor) finishRecords() {
	// wall-clock: RPC calls to node processes. Stopping the miners may use
	// its whole budget (the nodes may never agree), so the questions that
	// follow have a budget of their own.
	stopCtx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	s.stopMiners(stopCtx)
	stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var live []*rpc.Client
	for i := 0; i < s.opts.Nodes; i++ {
		p, _ := s.proc(i)
		if p == nil || !p.Alive() {
			continue
		}
		c := rpc.NewClient(p.RPCURL())
		s.pollEvents(ctx, i, c, 0) // the duplicates this records are dropped below
		var head struct {
			Hash common.Hash `json:"hash"`
		}
		if c.Call(ctx, &head, "chaind_head") == nil {
			s.rec.mu.Lock()
			s.rec.FinalHeads[i] = head.Hash
			s.rec.mu.Unlock()
			live = append(live, c)
		}
	}
	s.rec.mu.Lock()
	s.rec.Events = dedupeEvents(s.rec.Events)
	txs := append([]TxRec(nil), s.rec.Txs...)
	s.rec.mu.Unlock()
	if len(live) > 0 {
		s.fillAncestry(ctx, live)
	}
	// Each transfer's receipt from the first live node that has one.
	for k := range txs {
		for _, c := range live {
			var r *struct {
				BlockHash   common.Hash    `json:"blockHash"`
				BlockNumber hexutil.Uint64 `json:"blockNumber"`
			}
			if c.Call(ctx, &r, "eth_getTransactionReceipt", txs[k].Hash) == nil && r != nil {
				h := r.BlockHash
				txs[k].Block, txs[k].Height = &h, uint64(r.BlockNumber)
				break
			}
		}
	}
	s.rec.mu.Lock()
	s.rec.Txs = txs
	s.rec.mu.Unlock()
}

// maxFilled bounds the blocks fillAncestry fetches.
const maxFilled = 100_000

// fillAncestry fetches from the live nodes the blocks between each final
// head and the start of the run that no poll recorded (a poll that missed a
// node's events would otherwise cut the canonical chain the report walks,
// and every block and transfer below the gap would count as stale or
// unmined). It stops at genesis, or at a block no live node received
// during this run: one of an earlier run (Options.Resume).
func (s *Supervisor) fillAncestry(ctx context.Context, live []*rpc.Client) {
	c := live[0]
	s.rec.mu.Lock()
	heads := make([]common.Hash, 0, len(s.rec.FinalHeads))
	for _, h := range s.rec.FinalHeads {
		heads = append(heads, h)
	}
	s.rec.mu.Unlock()
	fetched := 0
	for _, h := range heads {
		for fetched < maxFilled {
			s.rec.mu.Lock()
			b, known := s.rec.Blocks[h]
			s.rec.mu.Unlock()
			if known {
				if b.Height == 0 {
					break
				}
				h = b.Parent
				continue
			}
			var blk *struct {
				Hash        common.Hash    `json:"hash"`
				ParentHash  common.Hash    `json:"parentHash"`
				Number      hexutil.Uint64 `json:"number"`
				Miner       common.Address `json:"miner"`
				TimestampMs hexutil.Uint64 `json:"timestampMs"`
			}
			if err := c.Call(ctx, &blk, "eth_getBlockByHash", h, false); err != nil || blk == nil || blk.Hash != h {
				s.log.Warn("Records miss a block the nodes have", "hash", h, "err", err)
				break
			}
			if blk.Number > 0 && !receivedInRun(ctx, live, h, uint64(blk.Number)) {
				break
			}
			fetched++
			s.rec.mu.Lock()
			s.rec.Blocks[h] = &BlockRec{Hash: h, Parent: blk.ParentHash, Height: uint64(blk.Number), Producer: blk.Miner,
				TimeMs: int64(blk.TimestampMs), SeenMs: map[int]int64{}}
			s.rec.mu.Unlock()
		}
	}
	if fetched > 0 {
		s.log.Info("Filled blocks missing from the records from a node", "blocks", fetched)
	}
}

// receivedInRun reports whether any of the live nodes received block h (at
// height n) since it started: a node forgets when it received the blocks
// it had before a restart.
func receivedInRun(ctx context.Context, live []*rpc.Client, h common.Hash, n uint64) bool {
	for _, c := range live {
		var nodes []treeNode
		if c.Call(ctx, &nodes, "chaind_blockTree", hexutil.Uint64(n), hexutil.Uint64(n)) != nil {
			continue
		}
		for _, b := range nodes {
			if b.Hash == h && b.ReceivedMs > 0 {
				return true
			}
		}
	}
	return false
}

// settleTimeout bounds the wait for the nodes to agree once mining stops.
const settleTimeout = 10 * time.Second

// stopMiners stops the miners so that the nodes end on one head. Stopping
// them all at once could leave a tie (two blocks of equal weight found at the
// same moment, each node keeping the one it saw first), so one keeps mining
// until every node has followed it, and stops last. It gives up after
// settleTimeout (a partitioned network never agrees).
func (s *Supervisor) stopMiners(ctx context.Context) {
	var live []*rpc.Client
	for i := 0; i < s.opts.Nodes; i++ {
		if p, _ := s.proc(i); p != nil && p.Alive() {
			live = append(live, rpc.NewClient(p.RPCURL()))
		}
	}
	if len(live) == 0 {
		return
	}
	for _, c := range live[1:] {
		c.Call(ctx, nil, "chaind_minerStop")
	}
	s.waitAgree(ctx, settleTimeout)
	live[0].Call(ctx, nil, "chaind_minerStop")
	s.waitAgree(ctx, settleTimeout)
}

// waitAgree waits up to timeout for the live nodes to report one head, and
// says whether they did.
func (s *Supervisor) waitAgree(ctx context.Context, timeout time.Duration) bool {
	deadline := s.clock.Now().Add(timeout)
	for {
		heads := map[common.Hash]bool{}
		for _, n := range s.Status(ctx) {
			if n.Alive {
				heads[n.Head] = true
			}
		}
		if len(heads) <= 1 {
			return true
		}
		if s.clock.Now().After(deadline) || clock.Sleep(ctx, s.clock, 50*time.Millisecond) != nil {
			return false
		}
	}
}

// dedupeEvents drops events recorded twice (same node, time and head).
func dedupeEvents(evs []EventRec) []EventRec {
	type key struct {
		node int
		t    int64
		h    common.Hash
	}
	seen := make(map[key]bool, len(evs))
	out := evs[:0]
	for _, e := range evs {
		k := key{e.Node, e.TimeMs, e.Hash}
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}
