package bftchain

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chaind/chaind/bft"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// ProducerConfig configures a Producer.
type ProducerConfig struct {
	Chain  *chain.Chain                // required
	Engine *Engine                     // required: Chain's engine
	Txs    func() []*types.Transaction // required: pending transactions, best first
	Key    *ecdsa.PrivateKey           // required: a validator's key
	// Dir (required) keeps the replica's write-ahead log and last-signed
	// record, and the blocks it proposed in the current height.
	Dir string
	// Gossip (optional) sends a signed message to the peers.
	Gossip func(code byte, payload []byte)
	Clock  clock.Clock  // optional: clock.Real
	Logger *slog.Logger // optional: slog.Default()
	// Period is how long after the head a block without transactions
	// starts; 0: blocks only when transactions wait.
	Period time.Duration
}

// Producer is a validator of a BFT chain driven by its node's clock: it
// starts a height when transactions wait, Period has passed since the head
// or another validator's message of the next height arrives; builds the
// block it proposes there; runs its bft.Replica (the state machine behind
// a write-ahead log and a last-signed record) on the messages and
// timeouts; and inserts each decided block with its commit. A proposal
// reaches the replica only with its block, once the block has passed
// chain.CheckBlock on the head: a validator without the block, or with
// one that does not import, prevotes nil when its propose timeout ends.
type Producer struct {
	cfg    ProducerConfig
	log    *slog.Logger
	clock  clock.Clock
	self   common.Address
	events chan bft.Event // timeouts
	inbox  chan inbound   // messages from the peers
	wake   chan struct{}
	quit   chan struct{}
	done   sync.WaitGroup

	replica *bft.Replica
	resume  bft.Output
	blocks  map[bft.Value]*chain.Block // proposed in the current height
	timers  []clock.Timer
	// heightMsgs are the current height's messages the replica took, its
	// own included, which resend sends again.
	heightMsgs []bft.Message
	obs        *observer // what bft_status and /metrics show
}

// proposalsDir holds the blocks of the current height, inside Dir, so that
// a replica restarted mid-height still has the block its log decided on.
const proposalsDir = "proposals"

// NewProducer opens the replica in cfg.Dir, replaying its log.
func NewProducer(cfg ProducerConfig) (*Producer, error) {
	if cfg.Chain == nil || cfg.Engine == nil || cfg.Txs == nil || cfg.Key == nil || cfg.Dir == "" {
		return nil, errors.New("bftchain: producer needs a chain, its engine, transactions, a key and a directory")
	}
	p := &Producer{cfg: cfg, log: cfg.Logger, clock: clock.OrReal(cfg.Clock), self: crypto.PubkeyToAddress(cfg.Key.PublicKey),
		events: make(chan bft.Event, 64), inbox: make(chan inbound, inboxSize), wake: make(chan struct{}, 1), quit: make(chan struct{}), blocks: map[bft.Value]*chain.Block{}, obs: newObserver()}
	if p.log == nil {
		p.log = slog.Default()
	}
	if head := cfg.Chain.Head(); head.Height() > 0 && len(head.Proof) == 0 {
		return nil, fmt.Errorf("bftchain: head block %d has no commit stored beside it: this data directory was made by a chaind whose BFT blocks carried their commit in the seal, and its chain cannot go on; move the data directory aside and start a new chain", head.Height())
	}
	self := cfg.Engine.Index(p.self)
	if self < 0 {
		return nil, fmt.Errorf("bftchain: %s is no validator", p.self.Hex())
	}
	if err := p.loadProposals(); err != nil {
		return nil, err
	}
	r, resume, err := bft.OpenReplica(cfg.Engine.Config(self), cfg.Dir, KeySigner{cfg.Key}, p.log)
	if err != nil {
		return nil, fmt.Errorf("bftchain: %w", err)
	}
	p.replica, p.resume = r, resume
	p.obs.snapshot(r.Machine())
	// A block from the peers (a committed block they sent, or one synced)
	// may end the height or let the next one start.
	cfg.Chain.Subscribe(func(ev chain.HeadEvent) {
		p.obs.committed(ev, p.clock.Now())
		p.NotifyTxs()
	})
	deliver := p.deliver
	cfg.Engine.deliver.Store(&deliver)
	cfg.Engine.producer.Store(p)
	cfg.Engine.chain.Store(cfg.Chain)
	return p, nil
}

// DoubleSignLog is the message a producer logs for each double vote it
// receives (two prevotes or two precommits of one validator for one height
// and round); the evidence is not gossiped or included in blocks yet.
const DoubleSignLog = "Received a double vote"

// inbound is a message from a peer, with its block if it is a proposal.
type inbound struct {
	msg   bft.Message
	block *chain.Block
}

// inboxSize bounds the messages waiting for the producer: a few rounds of
// a hundred validators' votes.
const inboxSize = 1024

// deliver queues a message received from a peer (its signature checked),
// dropping it when the queue is full: the machine's timeouts cover a lost
// message.
func (p *Producer) deliver(m bft.Message, b *chain.Block) {
	select {
	case p.inbox <- inbound{msg: m, block: b}:
	default:
		p.log.Debug("Dropped a consensus message: the queue is full", "msg", m.String())
	}
}

// Start runs the producer until Close.
func (p *Producer) Start() {
	p.done.Add(1)
	go p.run()
}

// NotifyTxs tells the producer that transactions wait, or that the head
// changed: it looks again whether to start a height.
func (p *Producer) NotifyTxs() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Close stops the producer and closes its log.
func (p *Producer) Close() error {
	close(p.quit)
	p.done.Wait()
	for _, t := range p.timers {
		t.Stop()
	}
	return p.replica.Close()
}

func (p *Producer) run() {
	defer p.done.Done()
	if err := p.act(p.resume); err != nil {
		p.log.Error("BFT producer stopped", "err", err)
		return
	}
	for {
		var err error
		if p.waiting() && len(p.cfg.Txs()) > 0 {
			err = p.startHeight() // on demand
		} else {
			err = p.next()
		}
		if errors.Is(err, errClosed) {
			return
		}
		if err != nil {
			p.log.Error("BFT producer stopped", "err", err)
			return
		}
	}
}

// errClosed ends the loop.
var errClosed = errors.New("closed")

// next waits for one event, a wake-up or the period's end, and handles it.
func (p *Producer) next() error {
	var start <-chan time.Time
	if p.waiting() && p.cfg.Period > 0 {
		head := time.UnixMilli(int64(p.cfg.Chain.Head().Header.Time))
		t := p.clock.NewTimer(max(head.Add(p.cfg.Period).Sub(p.clock.Now()), 0))
		defer t.Stop()
		start = t.C()
	}
	resend := p.resendTimer()
	if resend != nil {
		defer resend.Stop()
	}
	select {
	case <-p.quit:
		return errClosed
	case e := <-p.events:
		return p.handle(e)
	case in := <-p.inbox:
		return p.receive(in)
	case <-p.wake:
		return nil
	case <-start:
		return p.startHeight()
	case <-timerC(resend):
		p.resend()
		return nil
	}
}

// waiting says whether the next height is not started yet.
func (p *Producer) waiting() bool {
	m := p.replica.Machine()
	return uint64(m.Height()) <= p.cfg.Chain.Head().Height()
}

// startHeight builds the block to propose at the next height, keeps it on
// disk, and starts the height with it; what is left of an earlier height
// (one whose block came from the peers) is dropped.
func (p *Producer) startHeight() error {
	b, err := p.cfg.Chain.BuildBlock(p.self, p.cfg.Txs())
	if err != nil {
		return err
	}
	if err := p.endHeight(); err != nil {
		return err
	}
	v := bft.Value(b.Header.SealHash())
	if err := p.keepProposal(v, b); err != nil {
		return err
	}
	return p.handle(bft.NewHeight{Height: bft.Height(b.Height()), Value: v})
}

// receive hands a peer's message to the replica: it starts the next height
// first when the message is of it; a proposal goes only with its block,
// checked (acceptBlock).
func (p *Producer) receive(in inbound) error {
	if p.waiting() && uint64(in.msg.Height) == p.cfg.Chain.Head().Height()+1 {
		if err := p.startHeight(); err != nil {
			return err
		}
	}
	if in.block != nil {
		if ok, err := p.acceptBlock(in.msg, in.block); !ok || err != nil {
			return err
		}
	}
	p.remember(in.msg)
	p.obs.proposal(in.msg, p.clock.Now())
	return p.handle(bft.Receive{Msg: in.msg})
}

// acceptBlock keeps b, the block of proposal m, if it may extend the head
// at the replica's height (the engine fields, then chain.CheckBlock), and
// says whether m may go to the replica.
func (p *Producer) acceptBlock(m bft.Message, b *chain.Block) (bool, error) {
	if _, ok := p.blocks[m.Value]; ok {
		return true, nil
	}
	if m.Height != p.replica.Machine().Height() || uint64(m.Height) != p.cfg.Chain.Head().Height()+1 {
		return false, nil // not checkable on this head; the machine's timeouts cover it
	}
	err := p.cfg.Engine.checkProposed(b.Header, m.Validator)
	if err == nil {
		err = p.cfg.Chain.CheckBlock(b)
	}
	if err != nil {
		p.log.Warn("Refused a proposed block: no vote for it", "height", m.Height, "round", m.Round, "proposer", m.Validator, "err", err)
		return false, nil
	}
	return true, p.keepProposal(m.Value, b)
}

func (p *Producer) handle(e bft.Event) error {
	out, err := p.replica.Handle(e)
	if err != nil {
		return fmt.Errorf("bftchain: %w", err)
	}
	p.obs.snapshot(p.replica.Machine())
	return p.act(out)
}

// act sends out's messages, sets its timers and inserts its decision.
func (p *Producer) act(out bft.Output) error {
	for _, m := range out.Broadcast {
		p.obs.proposal(m, p.clock.Now())
		p.remember(m)
		p.gossip(m)
	}
	for _, ev := range out.Evidence {
		p.log.Warn(DoubleSignLog, "validator", ev.A.Validator, "height", ev.A.Height, "round", ev.A.Round, "type", ev.A.Type)
	}
	for _, t := range out.Timers {
		timeout := t.Timeout
		p.timers = append(p.timers, p.clock.AfterFunc(t.After, func() {
			select {
			case p.events <- timeout:
			case <-p.quit:
			}
		}))
	}
	if out.Decision == nil {
		return nil
	}
	if uint64(out.Decision.Height) <= p.cfg.Chain.Head().Height() {
		return nil // inserted before a restart that replayed the decision
	}
	b, ok := p.blocks[out.Decision.Value]
	if !ok {
		// The others have it; block sync brings it with its commit.
		p.log.Warn("Decided a block this node does not have", "height", out.Decision.Height, "value", out.Decision.Value)
		return nil
	}
	// The block is the proposed one whichever precommits this validator
	// saw: they are its proof, outside its hash, so every validator
	// inserts the same block at once.
	committed, err := p.cfg.Engine.WithCommit(b, out.Decision)
	if err != nil {
		return err
	}
	if err := p.cfg.Chain.InsertBlock(committed); err != nil && !errors.Is(err, chain.ErrKnownBlock) {
		return fmt.Errorf("bftchain: insert committed block %d: %w", committed.Height(), err)
	}
	p.log.Info("Committed block", "height", committed.Height(), "round", out.Decision.Round, "hash", committed.Hash(), "txs", len(committed.Txs))
	return p.endHeight()
}

// endHeight stops the height's timers and drops its blocks.
func (p *Producer) endHeight() error {
	for _, t := range p.timers {
		t.Stop()
	}
	p.timers, p.blocks, p.heightMsgs = nil, map[bft.Value]*chain.Block{}, nil
	return os.RemoveAll(filepath.Join(p.cfg.Dir, proposalsDir))
}

// gossip sends m, signed, to the peers: a proposal with its block.
func (p *Producer) gossip(m bft.Message) {
	if p.cfg.Gossip == nil {
		return
	}
	if m.Type != bft.TypeProposal {
		p.cfg.Gossip(VoteCode, EncodeMessage(m))
		return
	}
	b, ok := p.blocks[m.Value]
	if !ok {
		p.log.Error("Cannot send a proposal without its block", "msg", m.String())
		return
	}
	payload, err := EncodeProposal(Proposal{Msg: m, Block: b})
	if err != nil {
		p.log.Error("Cannot send a proposal", "msg", m.String(), "err", err)
		return
	}
	p.cfg.Gossip(ProposalCode, payload)
}

// keepProposal writes b, the block of value v, synced, before the height
// that proposes it starts.
func (p *Producer) keepProposal(v bft.Value, b *chain.Block) error {
	data, err := b.MarshalBinary()
	if err != nil {
		return err
	}
	dir := filepath.Join(p.cfg.Dir, proposalsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("bftchain: %w", err)
	}
	if err := bft.WriteFileSynced(filepath.Join(dir, fmt.Sprintf("%x.block", v[:])), data); err != nil {
		return err
	}
	p.blocks[v] = b
	return nil
}

// loadProposals reads the blocks kept by keepProposal.
func (p *Producer) loadProposals() error {
	dir := filepath.Join(p.cfg.Dir, proposalsDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("bftchain: %w", err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".block") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return fmt.Errorf("bftchain: %w", err)
		}
		b := new(chain.Block)
		if err := b.UnmarshalBinary(data); err != nil {
			return fmt.Errorf("bftchain: proposal %s: %w", e.Name(), err)
		}
		p.blocks[bft.Value(b.Header.SealHash())] = b
	}
	return nil
}
