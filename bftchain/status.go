package bftchain

import (
	"context"
	"sync"
	"time"

	"github.com/chaind/chaind/bft"
	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/prometheus/client_golang/prometheus"
)

// observer is what a producer shows of its consensus: a snapshot of its
// machine taken after each event (the machine itself belongs to the
// producer's goroutine), and the Prometheus metrics of its node's commits.
type observer struct {
	mu      sync.Mutex
	machine MachineStatus
	// seen is when the first proposal of each height not yet committed
	// reached the replica (sent or received with its block).
	seen map[uint64]time.Time

	rounds  prometheus.Histogram
	latency prometheus.Histogram
	height  prometheus.Gauge
	round   prometheus.Gauge
}

func newObserver() *observer {
	return &observer{
		seen: map[uint64]time.Time{},
		rounds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chaind_bft_rounds_per_height", Help: "Rounds each height committed on this node took: its commit's round plus one.",
			Buckets: []float64{1, 2, 3, 4, 6, 8, 12, 16, 32},
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chaind_bft_commit_latency_seconds", Help: "From the first proposal of a height this validator saw to the height's block on its chain.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12), // 10 ms to 20 s
		}),
		height: prometheus.NewGauge(prometheus.GaugeOpts{Name: "chaind_bft_height", Help: "Height the validator's state machine is in."}),
		round:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "chaind_bft_round", Help: "Round the validator's state machine is in."}),
	}
}

// MachineStatus is a validator's state machine at one moment.
type MachineStatus struct {
	Height      hexutil.Uint64 `json:"height"`
	Round       int32          `json:"round"`
	Step        string         `json:"step"`
	Decided     bool           `json:"decided"`
	LockedRound int32          `json:"lockedRound"` // -1: none
	LockedValue *common.Hash   `json:"lockedValue"` // the locked block's SealHash; null: none
	ValidRound  int32          `json:"validRound"`  // -1: none
	ValidValue  *common.Hash   `json:"validValue"`
}

// snapshot records m's state after an event.
func (o *observer) snapshot(m *bft.Machine) {
	lv, lr := m.Locked()
	vv, vr := m.Valid()
	s := MachineStatus{Height: hexutil.Uint64(m.Height()), Round: int32(m.Round()), Step: m.Step().String(), Decided: m.Decided(),
		LockedRound: int32(lr), LockedValue: valueHash(lv), ValidRound: int32(vr), ValidValue: valueHash(vv)}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.machine = s
	o.height.Set(float64(s.Height))
	o.round.Set(float64(s.Round))
}

func valueHash(v bft.Value) *common.Hash {
	if v.IsNil() {
		return nil
	}
	h := common.Hash(v)
	return &h
}

// proposal notes when a proposal of its height first reached the replica.
func (o *observer) proposal(m bft.Message, now time.Time) {
	if m.Type != bft.TypeProposal {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.seen[uint64(m.Height)]; !ok {
		o.seen[uint64(m.Height)] = now
	}
}

// committed observes each block the head gained: its commit's rounds and,
// if this validator saw a proposal of its height, the latency from it.
func (o *observer) committed(ev chain.HeadEvent, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, b := range ev.Added {
		c, err := DecodeCommit(b.Proof)
		if err != nil {
			continue // genesis
		}
		o.rounds.Observe(float64(c.Round) + 1)
		if t, ok := o.seen[b.Height()]; ok {
			o.latency.Observe(now.Sub(t).Seconds())
		}
		for h := range o.seen {
			if h <= b.Height() {
				delete(o.seen, h)
			}
		}
	}
}

var _ prometheus.Collector = (*Producer)(nil)

// Describe and Collect make a producer a Prometheus collector of its
// metrics, which its node serves at /metrics.
func (p *Producer) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range p.obs.collectors() {
		c.Describe(ch)
	}
}

// Collect is prometheus.Collector's.
func (p *Producer) Collect(ch chan<- prometheus.Metric) {
	for _, c := range p.obs.collectors() {
		c.Collect(ch)
	}
}

func (o *observer) collectors() []prometheus.Collector {
	return []prometheus.Collector{o.rounds, o.latency, o.height, o.round}
}

// Status is bft_status's answer: the validator's state machine, if the
// node runs one, and the commit of the head.
type Status struct {
	Machine    *MachineStatus `json:"machine"` // null on a node without a validator key
	LastCommit *CommitStatus  `json:"lastCommit"`
}

// CommitStatus is a committed block's commit: its round and the
// validators whose precommits its proof, as this node has it, holds.
type CommitStatus struct {
	Height       hexutil.Uint64   `json:"height"`
	Hash         common.Hash      `json:"hash"`
	Round        int32            `json:"round"`
	Precommitted []common.Address `json:"precommitted"`
}

// RPCMethods returns the engine's JSON-RPC namespace, bft_, in the shape
// the rpc package registers.
func (e *Engine) RPCMethods(c *chain.Chain) map[string]any {
	return map[string]any{"bft_status": func(context.Context) (*Status, error) { return e.status(c), nil }}
}

// status reads the producer's snapshot and the head's commit (none at
// genesis).
func (e *Engine) status(c *chain.Chain) *Status {
	var s Status
	if p := e.producer.Load(); p != nil {
		p.obs.mu.Lock()
		m := p.obs.machine
		p.obs.mu.Unlock()
		s.Machine = &m
	}
	head := c.Head()
	if commit, err := DecodeCommit(head.Proof); err == nil {
		cs := &CommitStatus{Height: hexutil.Uint64(head.Height()), Hash: head.Hash(), Round: int32(commit.Round), Precommitted: []common.Address{}}
		for _, sig := range commit.Sigs {
			if sig.Validator < len(e.cfg.Validators) {
				cs.Precommitted = append(cs.Precommitted, e.cfg.Validators[sig.Validator].Address)
			}
		}
		s.LastCommit = cs
	}
	return &s
}
