package pow

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// TxSource supplies the transactions to mine, best first, each sender's in
// nonce order.
type TxSource interface {
	Pending() []*types.Transaction
}

// MinerConfig configures a Miner.
type MinerConfig struct {
	Chain    *chain.Chain   // required
	Engine   *Engine        // required
	Txs      TxSource       // required
	Coinbase common.Address // receives rewards and fees
	Logger   *slog.Logger   // optional: slog.Default()
	// Refresh is how soon a template is rebuilt when new transactions
	// arrive while sealing; optional, 20ms. A rebuild never comes sooner
	// than twice the time the last one took, so that a large mempool
	// cannot keep the miner building templates instead of hashing.
	Refresh time.Duration
	// Clock (optional, clock.Real) times the refresh, the rebuild guard and
	// the hash-rate meter.
	Clock clock.Clock
}

// Miner builds block templates on the head, seals them with the engine and
// inserts the result. It restarts on a new template as soon as the head
// changes, and within Refresh when new transactions arrive.
type Miner struct {
	cfg MinerConfig
	log *slog.Logger

	headCh chan struct{}
	txCh   chan struct{}
	ctlCh  chan bool
	quit   chan struct{}
	wg     sync.WaitGroup

	running  atomic.Bool
	hashrate atomic.Uint64 // float64 bits, nonces per second
}

// NewMiner returns a stopped miner; call Start to mine and Close when done.
func NewMiner(cfg MinerConfig) *Miner {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 20 * time.Millisecond
	}
	cfg.Clock = clock.OrReal(cfg.Clock)
	m := &Miner{
		cfg:    cfg,
		log:    cfg.Logger,
		headCh: make(chan struct{}, 1),
		txCh:   make(chan struct{}, 1),
		ctlCh:  make(chan bool),
		quit:   make(chan struct{}),
	}
	cfg.Chain.Subscribe(func(chain.HeadEvent) { signal(m.headCh) })
	m.wg.Add(2)
	go m.loop()
	go m.measure()
	return m
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Start begins mining.
func (m *Miner) Start() { m.control(true) }

// Stop pauses mining.
func (m *Miner) Stop() { m.control(false) }

func (m *Miner) control(on bool) {
	select {
	case m.ctlCh <- on:
	case <-m.quit:
	}
}

// Mining reports whether the miner is running.
func (m *Miner) Mining() bool { return m.running.Load() }

// Hashrate is the measured rate in nonces per second over the last second.
func (m *Miner) Hashrate() float64 { return math.Float64frombits(m.hashrate.Load()) }

// Threads is the number of sealing workers.
func (m *Miner) Threads() int { return m.cfg.Engine.Threads() }

// Coinbase is the address mined blocks pay.
func (m *Miner) Coinbase() common.Address { return m.cfg.Coinbase }

// NotifyTxs tells the miner that new transactions are pending.
func (m *Miner) NotifyTxs() { signal(m.txCh) }

// Close stops the miner and waits for it.
func (m *Miner) Close() {
	close(m.quit)
	m.wg.Wait()
}

type sealResult struct {
	block *chain.Block
	err   error
}

func (m *Miner) loop() {
	defer m.wg.Done()
	var (
		cancel    context.CancelFunc = func() {}
		results   chan sealResult
		clk       = m.cfg.Clock
		refresh   = clk.NewTicker(m.cfg.Refresh)
		newTxs    bool
		lastBuild time.Time
		buildTook time.Duration
	)
	defer refresh.Stop()
	defer func() { cancel() }()
	restart := func() {
		cancel()
		results = nil
		if !m.running.Load() {
			return
		}
		drain(m.headCh)
		newTxs = false
		lastBuild = clk.Now()
		tmpl, err := m.cfg.Chain.BuildBlock(m.cfg.Coinbase, m.cfg.Txs.Pending())
		buildTook = clk.Now().Sub(lastBuild)
		if err != nil {
			m.log.Error("Cannot build block template", "err", err)
			return
		}
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		results = make(chan sealResult, 1)
		go func(out chan<- sealResult) {
			b, err := m.cfg.Engine.Seal(ctx, m.cfg.Chain, tmpl)
			out <- sealResult{b, err}
		}(results)
	}
	for {
		select {
		case <-m.quit:
			return
		case on := <-m.ctlCh:
			if on != m.running.Load() {
				m.running.Store(on)
				m.log.Info("Miner "+map[bool]string{true: "started", false: "stopped"}[on], "threads", m.Threads(), "coinbase", m.cfg.Coinbase)
				restart()
			}
		case <-m.headCh:
			restart()
		case <-m.txCh:
			newTxs = true
		case <-refresh.C():
			if newTxs && clk.Now().Sub(lastBuild) >= 2*buildTook {
				restart()
			}
		case r := <-results:
			results = nil
			if r.err != nil {
				if !errors.Is(r.err, context.Canceled) {
					m.log.Error("Sealing failed", "err", r.err)
				}
				restart()
				continue
			}
			if err := m.cfg.Chain.InsertBlock(r.block); err != nil {
				m.log.Error("Mined block rejected", "height", r.block.Height(), "err", err)
			} else {
				m.log.Info("Mined block", "height", r.block.Height(), "hash", r.block.Hash(), "txs", len(r.block.Txs),
					"difficulty", m.cfg.Engine.Weight(r.block.Header), "hashrate", int64(m.Hashrate()))
			}
			restart()
		}
	}
}

func drain(ch chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

// measure samples the engine's nonce counter once a second.
func (m *Miner) measure() {
	defer m.wg.Done()
	t := m.cfg.Clock.NewTicker(time.Second)
	defer t.Stop()
	last, lastAt := m.cfg.Engine.Hashes(), m.cfg.Clock.Now()
	for {
		select {
		case <-m.quit:
			return
		case now := <-t.C():
			n := m.cfg.Engine.Hashes()
			rate := float64(n-last) / now.Sub(lastAt).Seconds()
			last, lastAt = n, now
			m.hashrate.Store(math.Float64bits(rate))
		}
	}
}
