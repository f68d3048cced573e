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
// starts a height when transactions wait or Period has passed since the
// head, builds the block it proposes there, runs its bft.Replica (the
// state machine behind a write-ahead log and a last-signed record) on the
// messages and timeouts, and inserts each decided block with its commit.
// It runs the only validator of a chain (a dev chain), which decides
// every height alone.
type Producer struct {
	cfg    ProducerConfig
	log    *slog.Logger
	clock  clock.Clock
	self   common.Address
	events chan bft.Event
	wake   chan struct{}
	quit   chan struct{}
	done   sync.WaitGroup

	replica *bft.Replica
	resume  bft.Output
	blocks  map[bft.Value]*chain.Block // proposed in the current height
	timers  []clock.Timer
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
		events: make(chan bft.Event, 64), wake: make(chan struct{}, 1), quit: make(chan struct{}), blocks: map[bft.Value]*chain.Block{}}
	if p.log == nil {
		p.log = slog.Default()
	}
	if cfg.Engine.vals.Size() > 1 {
		return nil, fmt.Errorf("bftchain: a chain of %d validators: a producer decides alone, and its messages to other validators are not carried yet", cfg.Engine.vals.Size())
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
	deliver := p.deliver
	cfg.Engine.deliver.Store(&deliver)
	return p, nil
}

// deliver queues a message received from a peer (its signature checked),
// dropping it when the queue is full: the machine's timeouts cover a lost
// message.
func (p *Producer) deliver(m bft.Message) {
	select {
	case p.events <- bft.Receive{Msg: m}:
	default:
		p.log.Debug("Dropped a consensus message: the queue is full", "msg", m.String())
	}
}

// Start runs the producer until Close.
func (p *Producer) Start() {
	p.done.Add(1)
	go p.run()
}

// NotifyTxs tells the producer that transactions wait.
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
	select {
	case <-p.quit:
		return errClosed
	case e := <-p.events:
		return p.handle(e)
	case <-p.wake:
		return nil
	case <-start:
		return p.startHeight()
	}
}

// waiting says whether the next height is not started yet.
func (p *Producer) waiting() bool {
	m := p.replica.Machine()
	return uint64(m.Height()) <= p.cfg.Chain.Head().Height()
}

// startHeight builds the block to propose at the next height, keeps it on
// disk, and starts the height with it.
func (p *Producer) startHeight() error {
	b, err := p.cfg.Chain.BuildBlock(p.self, p.cfg.Txs())
	if err != nil {
		return err
	}
	v := bft.Value(b.Header.SealHash())
	if err := p.keepProposal(v, b); err != nil {
		return err
	}
	return p.handle(bft.NewHeight{Height: bft.Height(b.Height()), Value: v})
}

func (p *Producer) handle(e bft.Event) error {
	out, err := p.replica.Handle(e)
	if err != nil {
		return fmt.Errorf("bftchain: %w", err)
	}
	return p.act(out)
}

// act sends out's messages, sets its timers and inserts its decision.
func (p *Producer) act(out bft.Output) error {
	if p.cfg.Gossip != nil {
		for _, m := range out.Broadcast {
			p.cfg.Gossip(CodeOf(m), EncodeMessage(m))
		}
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
		return fmt.Errorf("bftchain: decided %s at height %d, a block this node does not have", out.Decision.Value, out.Decision.Height)
	}
	sealed, err := p.cfg.Engine.WithCommit(b, out.Decision)
	if err != nil {
		return err
	}
	if err := p.cfg.Chain.InsertBlock(sealed); err != nil && !errors.Is(err, chain.ErrKnownBlock) {
		return fmt.Errorf("bftchain: insert committed block %d: %w", sealed.Height(), err)
	}
	p.log.Info("Committed block", "height", sealed.Height(), "round", out.Decision.Round, "hash", sealed.Hash(), "txs", len(sealed.Txs))
	for _, t := range p.timers {
		t.Stop()
	}
	p.timers, p.blocks = nil, map[bft.Value]*chain.Block{}
	return os.RemoveAll(filepath.Join(p.cfg.Dir, proposalsDir))
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
