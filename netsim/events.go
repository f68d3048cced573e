package netsim

import (
	"errors"
	"math"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/pow"
	"github.com/chaind/chaind/testnet"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// headerBytes is what a block costs on the wire besides its payload.
const headerBytes = 250

// blockInfo is a block the simulation made, and its place in the order
// blocks were made.
type blockInfo struct {
	block *chain.Block
	seq   int
}

// delivery is a block, a transaction or a consensus message on its way to
// a node, and the peer it came from (-1: the node made it).
type delivery struct {
	block *chain.Block
	tx    *types.Transaction
	msg   *consensusMsg
	from  int
}

func (d *delivery) hash() common.Hash {
	switch {
	case d.block != nil:
		return d.block.Hash()
	case d.msg != nil:
		return d.msg.hash()
	}
	return d.tx.Hash()
}

// payload is the part of d that costs validation time: a block's
// transactions, or its simulated payload when it carries none.
func (s *sim) payload(d *delivery) int {
	switch {
	case d.tx != nil:
		return int(d.tx.Size())
	case d.msg != nil:
		return len(d.msg.payload)
	case s.cfg.TxRate > 0:
		return txBytes(d.block.Txs)
	}
	return s.cfg.BlockSize + txBytes(d.block.Txs) // PoS blocks carry votes
}

// wireSize is what d costs on a link.
func (s *sim) wireSize(d *delivery) int {
	if d.block == nil {
		return s.payload(d)
	}
	return headerBytes + s.payload(d)
}

// scheduleMining draws the time until n finds a block on its current head
// (exponential, at n's share of the hash rate over the next block's
// difficulty) and replaces any pending draw: mining is memoryless, so a new
// head simply starts a new wait.
func (s *sim) scheduleMining(n *node) {
	if n.mining != nil {
		n.mining.Stop()
		n.mining = nil
	}
	if s.stopped || n.share == 0 || n.down {
		return
	}
	bits, err := pow.BitsAfter(n.chain, n.chain.CurrentHeader())
	if err != nil {
		panic("netsim: difficulty on the head: " + err.Error()) // the head's parent is stored
	}
	difficulty, _ := new(big.Float).SetInt(chain.DifficultyForTarget(chain.CompactToBig(bits))).Float64()
	rate := n.share * s.hashesPerSec / difficulty // blocks per second
	wait := time.Duration(s.rng.ExpFloat64() / rate * float64(time.Second))
	n.mining = s.clk.AfterFunc(wait, func() { s.mine(n) })
}

// mine makes n's block on its head, imports it and sends it to n's peers.
func (s *sim) mine(n *node) {
	n.mining = nil
	if s.stopped {
		return
	}
	b, err := n.chain.BuildBlock(coinbase(n.id), s.pickTxs(n))
	if err != nil {
		panic("netsim: build block: " + err.Error()) // the simulation's own chain: cannot fail
	}
	b = sealed(b)
	hash := b.Hash()
	s.blocks[hash] = &blockInfo{block: b, seq: len(s.blocks)}
	s.rec.Blocks[hash] = &testnet.BlockRec{Hash: hash, Parent: b.Header.ParentHash, Height: b.Height(),
		Producer: coinbase(n.id), SeenMs: map[int]int64{}}
	if s.selfish != nil && s.selfish.node != n {
		s.selfish.honestFound(b)
	}
	s.arrive(n, &delivery{block: b, from: -1})
}

// arrive is a block, a transaction or a consensus message reaching n (one
// that a cut link dropped ends n's request for it). A block n records, checks (after the
// validation time) and, if it is new and valid, imports and relays.
func (s *sim) arrive(n *node, d *delivery) {
	if d.from >= 0 && !s.linked(s.nodes[d.from], n) {
		s.requestFailed(n, d.hash())
		return
	}
	switch {
	case d.tx != nil:
		s.arriveTx(n, d)
		return
	case d.msg != nil:
		s.arriveMsg(n, d)
		return
	}
	hash := d.block.Hash()
	if n.seen[hash] {
		return
	}
	n.seen[hash] = true
	s.received(n, hash)
	s.rec.Blocks[hash].SeenMs[n.id] = s.clk.Now().UnixMilli()
	check := s.cfg.Processing
	if s.cfg.ValidationRate > 0 && d.from >= 0 {
		check += time.Duration(float64(s.payload(d)) / s.cfg.ValidationRate * float64(time.Second))
	}
	if d.from < 0 {
		check = 0 // the producer built it
	}
	s.clk.AfterFunc(check, func() { s.importBlock(n, d) })
}

func (s *sim) importBlock(n *node, d *delivery) {
	if n.validator != nil && d.from >= 0 { // as a node's p2p shows its validator every block it receives
		n.validator.ObserveHeader(d.block.Header)
		n.validator.ObserveBlock(d.block)
	}
	err := n.chain.InsertBlock(d.block)
	switch {
	case err == nil:
	case errors.Is(err, chain.ErrKnownBlock) && d.from < 0: // the producer's validator imported it
	case errors.Is(err, chain.ErrUnknownParent):
		parent := d.block.Header.ParentHash
		n.orphans[parent] = append(n.orphans[parent], d)
		return
	case chain.IsRuleError(err): // a block a correct node refuses: a rival of its finalized checkpoint, a Byzantine block
		s.refused++
		return
	default:
		panic("netsim: node " + strconv.Itoa(n.id) + " refused a simulated block: " + err.Error())
	}
	s.maxH = max(s.maxH, d.block.Height())
	if s.cfg.Blocks > 0 && s.maxH >= s.cfg.Blocks && !s.stopped {
		s.stop()
	}
	switch {
	case s.selfish == nil || s.selfish.node != n:
		s.relay(n, d)
	case d.from < 0:
		s.selfish.mined(s, d.block)
	default:
		s.selfish.heard(s, d.block)
	}
	hash := d.block.Hash()
	waiting := n.orphans[hash]
	delete(n.orphans, hash)
	for _, o := range waiting {
		s.importBlock(n, o)
	}
}

// send puts d on the link from n to peer: it waits for n's uplink (a node
// uploads one message at a time), takes its transfer time at the slower
// end's bandwidth, then the link's latency. A cut link drops it.
func (s *sim) send(n, peer *node, d *delivery) {
	if !s.linked(n, peer) {
		s.requestFailed(peer, d.hash())
		return
	}
	now := s.clk.Now()
	end := n.uplink.Transmit(now, s.wireSize(d), s.cfg.Network.Bandwidth(n.id, peer.id))
	at := end.Add(s.cfg.Network.Latency(n.id, peer.id, s.rng))
	msg := &delivery{block: d.block, tx: d.tx, msg: d.msg, from: n.id}
	s.clk.AfterFunc(at.Sub(now), func() { s.arrive(peer, msg) })
}

// onHead records a head change of n and restarts n's mining on the new head.
func (s *sim) onHead(n *node, ev chain.HeadEvent) {
	rec := testnet.EventRec{Node: n.id, TimeMs: s.clk.Now().UnixMilli(), Hash: ev.Head.Hash(), Height: ev.Head.Height()}
	for _, b := range ev.Removed {
		rec.Removed = append(rec.Removed, b.Hash())
	}
	for _, b := range ev.Added {
		rec.Added = append(rec.Added, b.Hash())
	}
	s.rec.Events = append(s.rec.Events, rec)
	s.recordFinality(n)
	s.scheduleMining(n)
}

// stop ends mining (a selfish miner publishes what it kept); blocks
// already sent still arrive.
func (s *sim) stop() {
	s.stopped = true
	if s.selfish != nil {
		s.selfish.publish(s, len(s.selfish.private))
	}
	s.rec.EndMs = s.clk.Now().UnixMilli()
	for _, n := range s.nodes {
		s.scheduleMining(n)
	}
}

// finish records every node's final head.
func (s *sim) finish() {
	if !s.stopped {
		s.stop()
	}
	for _, n := range s.nodes {
		s.rec.FinalHeads[n.id] = n.chain.CurrentHeader().Hash()
	}
	s.recordInclusion()
}

func (s *sim) progress(wall time.Duration) Progress {
	return Progress{SimTime: s.clk.Now().Sub(genesisTime), Height: s.maxH, Blocks: len(s.rec.Blocks) - 1,
		Events: s.events, EventsPerS: float64(s.events) / wall.Seconds(), WallElapsed: wall}
}

// MedianArrival is the median, over every block and every node that saw it
// (but the first), of how long after the block's first appearance the node
// received it: the "median time until a node receives a block" that
// measurements of the Bitcoin network report.
func MedianArrival(r *testnet.Records) time.Duration {
	var delays []int64
	for _, b := range r.Blocks {
		if b.Height == 0 || len(b.SeenMs) < 2 {
			continue
		}
		first := int64(math.MaxInt64)
		for _, t := range b.SeenMs {
			first = min(first, t)
		}
		for _, t := range b.SeenMs {
			if t != first {
				delays = append(delays, t-first)
			}
		}
	}
	if len(delays) == 0 {
		return 0
	}
	slices.Sort(delays)
	return time.Duration(delays[len(delays)/2]) * time.Millisecond
}
