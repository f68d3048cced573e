package chain_test

import (
	"context"
	"math/big"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
)

// probeEngine reads the chain inside every hook, as an engine that looks at
// the head while verifying or preparing a header would. The chain calls
// these hooks with its write lock held, so a reader that took the chain's
// lock would deadlock the import.
type probeEngine struct {
	ct.Engine
	mu    sync.Mutex
	c     *chain.Chain
	reads int
}

func (p *probeEngine) read(c chain.ChainReader, parent *chain.Header) {
	head := c.CurrentHeader()
	if parent != nil && c.GetHeader(parent.Hash()) == nil {
		panic("parent not readable inside an engine hook")
	}
	_ = c.Genesis().ChainID
	p.mu.Lock()
	p.reads++
	full := p.c
	p.mu.Unlock()
	if full != nil { // the concrete chain's own readers
		_ = full.HeadWeight()
		if full.Head().Height() < head.Height {
			panic("head went back between two reads")
		}
	}
}

func (p *probeEngine) VerifyHeader(c chain.ChainReader, h, parent *chain.Header) error {
	p.read(c, parent)
	return nil
}

func (p *probeEngine) Prepare(c chain.ChainReader, h, parent *chain.Header) error {
	p.read(c, parent)
	return nil
}

func (p *probeEngine) Seal(ctx context.Context, c chain.ChainReader, b *chain.Block) (*chain.Block, error) {
	p.read(c, nil)
	return b, nil
}

// The state transition hooks are probed too.
func (p *probeEngine) BeginBlock(c chain.ChainReader, st *chain.State, h *chain.Header) error {
	p.read(c, nil)
	return nil
}

func (p *probeEngine) Finalize(c chain.ChainReader, st *chain.State, h *chain.Header) error {
	p.read(c, nil)
	return p.Engine.Finalize(c, st, h)
}

func (p *probeEngine) Weight(h *chain.Header) *big.Int { return big.NewInt(1) }

// TestEngineHooksMayReadTheChain builds and imports blocks with an engine that
// reads the chain in every hook, while other goroutines read the head. A
// deadlock shows as the import not finishing within a minute.
func TestEngineHooksMayReadTheChain(t *testing.T) {
	g := ct.Genesis(1)
	clk := ct.NewClock(ct.GenesisTime)
	store := chain.OpenMemStore()
	t.Cleanup(func() { store.Close() })
	probe := &probeEngine{}
	c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: probe, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	probe.mu.Lock()
	probe.c = c
	probe.mu.Unlock()

	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					_ = c.CurrentHeader()
					_ = c.HeadWeight()
					runtime.Gosched()
				}
			}
		})
	}
	done := make(chan error, 1)
	go func() {
		for range 20 {
			clk.Advance(time.Second)
			b, err := c.BuildBlock(ct.Addr(0), nil)
			if err != nil {
				done <- err
				return
			}
			if b, err = probe.Seal(context.Background(), c, b); err != nil {
				done <- err
				return
			}
			if err := c.InsertBlock(b); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("import did not finish: an engine hook deadlocked on the chain's lock")
	}
	close(stop)
	readers.Wait()
	if h := c.CurrentHeader().Height; h != 20 {
		t.Fatalf("head at %d, want 20", h)
	}
	if probe.reads < 60 {
		t.Fatalf("only %d hook reads: the hooks were not all called", probe.reads)
	}
}
