package pow

import (
	"context"
	"fmt"
	"math/big"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/chaind/chaind/chain"
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

// Engine is the proof-of-work consensus engine.
type Engine struct {
	threads int
	hashes  atomic.Uint64 // nonces tried, for the hashrate
}

var _ chain.Engine = (*Engine)(nil)

// New returns an engine that seals with threads workers (0: one per CPU).
func New(threads int) *Engine {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	return &Engine{threads: threads}
}

// Threads is the number of sealing workers.
func (e *Engine) Threads() int { return e.threads }

// Hashes is the number of nonces tried so far.
func (e *Engine) Hashes() uint64 { return e.hashes.Load() }

// VerifyHeader checks the difficulty bits against the adjustment rule and
// the hash against the target.
func (e *Engine) VerifyHeader(c chain.ChainReader, h, parent *chain.Header) error {
	want, err := nextBits(c, parent)
	if err != nil {
		return err
	}
	if h.Bits != want {
		return chain.RuleError{Kind: ErrBadBits, Description: fmt.Sprintf("%s: block %d has %08x, want %08x", ErrBadBits, h.Height, h.Bits, want)}
	}
	if len(h.Seal) != 0 {
		return chain.RuleError{Kind: ErrSeal, Description: fmt.Sprintf("%s: PoW headers carry no seal, got %d bytes", ErrSeal, len(h.Seal))}
	}
	hash := h.Hash()
	if new(big.Int).SetBytes(hash[:]).Cmp(chain.CompactToBig(h.Bits)) > 0 {
		return chain.RuleError{Kind: ErrBadPoW, Description: fmt.Sprintf("%s: block %d hash %x", ErrBadPoW, h.Height, hash)}
	}
	return nil
}

// Prepare sets the difficulty bits of h.
func (e *Engine) Prepare(c chain.ChainReader, h, parent *chain.Header) error {
	bits, err := nextBits(c, parent)
	h.Bits = bits
	return err
}

// Weight is the expected number of hashes the block took: 2^256/(target+1).
func (e *Engine) Weight(h *chain.Header) *big.Int {
	return chain.DifficultyForTarget(chain.CompactToBig(h.Bits))
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
			return &chain.Block{Header: h, Txs: b.Txs}, nil
		}
		h.Time++
	}
}

// search tries the whole nonce space for h across the workers.
func (e *Engine) search(ctx context.Context, h *chain.Header) (uint64, bool, error) {
	tmpl := newTemplate(h.HashingBytes())
	target := targetWords(chain.CompactToBig(h.Bits))
	var (
		stop   atomic.Bool
		result atomic.Uint64
		found  atomic.Bool
		wg     sync.WaitGroup
	)
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			stop.Store(true)
		case <-done:
		}
	}()
	span := ^uint64(0) / uint64(e.threads)
	for i := 0; i < e.threads; i++ {
		wg.Add(1)
		go func(start uint64) {
			defer wg.Done()
			if n, ok := scan(&tmpl, &target, start, span, &stop, &e.hashes); ok && found.CompareAndSwap(false, true) {
				result.Store(n)
				stop.Store(true)
			}
		}(uint64(i) * span)
	}
	wg.Wait()
	close(done)
	if found.Load() {
		return result.Load(), true, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	return 0, false, nil
}

// scan tries count nonces from start, returning the first that meets target.
func scan(t *template, target *[8]uint32, start, count uint64, stop *atomic.Bool, hashes *atomic.Uint64) (uint64, bool) {
	for done := uint64(0); done < count; {
		n := min(uint64(stopCheckInterval), count-done)
		for i := uint64(0); i < n; i++ {
			nonce := start + done + i
			if h := t.hash(nonce); lessOrEqual(&h, target) {
				hashes.Add(i + 1)
				return nonce, true
			}
		}
		done += n
		hashes.Add(n)
		if stop.Load() {
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
