package pow

import (
	"context"
	"math/big"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
)

// PoW rule violations.
const (
	ErrBadBits = chain.ErrorKind("wrong difficulty bits")
	ErrBadPoW  = chain.ErrorKind("hash above target")
	ErrSeal    = chain.ErrorKind("unexpected seal data")
)

// stopCheckInterval is how many nonces a worker tries between looks at the
// stop flag.
const stopCheckInterval = 1 << 15

// Engine is the proof-of-work consensus engine. It takes no system calls
// and keeps no records: its state transition is the block reward.
type Engine struct {
	chain.NoSystemCalls
	threads  int
	throttle *throttle     // nil: as fast as the CPU goes
	hashes   atomic.Uint64 // nonces tried, for the hashrate
}

var _ chain.Engine = (*Engine)(nil)

// EngineConfig configures an Engine.
type EngineConfig struct {
	Threads int // sealing workers; optional, one per CPU
	// Hashrate, when positive, holds sealing to this many nonces per second
	// over all workers (a token bucket on Clock), so that a miner's share
	// of a testnet's hash power is what it was given, not what the
	// scheduler happens to give it.
	Hashrate float64
	Clock    clock.Clock // optional: clock.Real
}

// New returns an engine that seals with threads workers (0: one per CPU)
// as fast as they go.
func New(threads int) *Engine { return NewEngine(EngineConfig{Threads: threads}) }

// NewEngine returns an engine configured by cfg.
func NewEngine(cfg EngineConfig) *Engine {
	e := &Engine{threads: cfg.Threads}
	if e.threads <= 0 {
		e.threads = runtime.NumCPU()
	}
	if cfg.Hashrate > 0 {
		e.throttle = newThrottle(cfg.Hashrate, cfg.Clock)
	}
	return e
}

// Threads is the number of sealing workers.
func (e *Engine) Threads() int { return e.threads }

// Hashes is the number of nonces tried so far.
func (e *Engine) Hashes() uint64 { return e.hashes.Load() }

// InitGenesis sets the genesis target from the genesis difficulty (the
// expected number of hashes per block).
func (e *Engine) InitGenesis(g *chain.Genesis, h *chain.Header, _ *chain.State) {
	if cfg := Section(g); cfg != nil && cfg.Difficulty.Big().Sign() > 0 {
		h.Bits = chain.BigToCompact(chain.TargetForDifficulty(cfg.Difficulty.Big()))
	}
}

// Finalize pays the block reward to the miner.
func (e *Engine) Finalize(c chain.ChainReader, st *chain.State, h *chain.Header) error {
	st.Credit(h.Coinbase, c.Genesis().BlockReward.Big())
	return nil
}

// VerifyHeader checks the difficulty bits against the adjustment rule and
// the hash against the target.
func (e *Engine) VerifyHeader(c chain.ChainReader, h, parent *chain.Header) error {
	want, err := BitsAfter(c, parent)
	if err != nil {
		return err
	}
	if h.Bits != want {
		return chain.NewRuleError(ErrBadBits, "block %d has %08x, want %08x", h.Height, h.Bits, want)
	}
	if len(h.Seal) != 0 {
		return chain.NewRuleError(ErrSeal, "PoW headers carry no seal, got %d bytes", len(h.Seal))
	}
	value := Value(h)
	if new(big.Int).SetBytes(value[:]).Cmp(chain.CompactToBig(h.Bits)) > 0 {
		return chain.NewRuleError(ErrBadPoW, "block %d proof-of-work value %x", h.Height, value)
	}
	return nil
}

// Value is h's proof-of-work value, which must not exceed the target of its
// bits: SHA-256d of its seal hash followed by its nonce, big-endian.
func Value(h *chain.Header) common.Hash {
	t := newTemplate(h.SealHash())
	return wordsToBytes(t.hash(h.Nonce))
}

// Prepare sets the difficulty bits of h.
func (e *Engine) Prepare(c chain.ChainReader, h, parent *chain.Header) error {
	bits, err := BitsAfter(c, parent)
	h.Bits = bits
	return err
}

// Weight is the expected number of hashes the block took: 2^256/(target+1).
func (e *Engine) Weight(h *chain.Header) *big.Int {
	return chain.Work(h.Bits)
}

// Seal searches nonces on all workers until one meets the target or ctx ends.
// Worker i starts at i*2^64/threads; when every range is exhausted the time
// is rolled forward by 1 ms and the search starts again.
func (e *Engine) Seal(ctx context.Context, c chain.ChainReader, b *chain.Block) (*chain.Block, error) {
	h := b.Header.Copy()
	for {
		nonce, found, err := e.search(ctx, h)
		if err != nil {
			return nil, err
		}
		if found {
			h.Nonce = nonce
			return &chain.Block{Header: h, Txs: b.Txs, Consensus: b.Consensus}, nil
		}
		h.Time++
	}
}

// search tries the whole nonce space for h across the workers.
func (e *Engine) search(ctx context.Context, h *chain.Header) (uint64, bool, error) {
	tmpl := newTemplate(h.SealHash())
	target := targetWords(chain.CompactToBig(h.Bits))
	var (
		stop   atomic.Bool
		result atomic.Uint64
		found  atomic.Bool
		wg     sync.WaitGroup
	)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-sctx.Done()
		stop.Store(true)
	}()
	span := ^uint64(0) / uint64(e.threads)
	for i := 0; i < e.threads; i++ {
		wg.Add(1)
		go func(start uint64) {
			defer wg.Done()
			w := scanner{tmpl: &tmpl, target: &target, stop: &stop, hashes: &e.hashes, throttle: e.throttle, ctx: sctx}
			if n, ok := w.scan(start, span); ok && found.CompareAndSwap(false, true) {
				result.Store(n)
				cancel()
			}
		}(uint64(i) * span)
	}
	wg.Wait()
	if found.Load() {
		return result.Load(), true, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	return 0, false, nil
}

// scanner is one worker's view of a search.
type scanner struct {
	tmpl     *template
	target   *[8]uint32
	stop     *atomic.Bool   // set when the search ends
	hashes   *atomic.Uint64 // nonces tried, shared
	throttle *throttle      // optional
	ctx      context.Context
}

// scan tries count nonces from start, two at a time (template.hash2),
// returning the first that meets the target. It looks at the stop flag (and takes throttle tokens) once per
// chunk.
func (w *scanner) scan(start, count uint64) (uint64, bool) {
	t, target, hashes := w.tmpl, w.target, w.hashes
	chunk := uint64(stopCheckInterval)
	if w.throttle != nil {
		chunk = w.throttle.chunk
	}
	for done := uint64(0); done < count; {
		n := min(chunk, count-done)
		if w.throttle != nil && !w.throttle.take(w.ctx, n) {
			return 0, false
		}
		i := uint64(0)
		for ; i+1 < n; i += 2 { // two nonces per pass
			nonce := start + done + i
			a, b := t.hash2(nonce)
			if lessOrEqual(&a, target) {
				hashes.Add(i + 1)
				return nonce, true
			}
			if lessOrEqual(&b, target) {
				hashes.Add(i + 2)
				return nonce + 1, true
			}
		}
		if i < n { // an odd count's last nonce
			if h := t.hash(start + done + i); lessOrEqual(&h, target) {
				hashes.Add(i + 1)
				return start + done + i, true
			}
		}
		done += n
		hashes.Add(n)
		if w.stop.Load() {
			return 0, false
		}
	}
	return 0, false
}

func targetWords(t *big.Int) (w [8]uint32) {
	var b [32]byte
	t.FillBytes(b[:])
	for i := range w {
		w[i] = uint32(b[4*i])<<24 | uint32(b[4*i+1])<<16 | uint32(b[4*i+2])<<8 | uint32(b[4*i+3])
	}
	return w
}
