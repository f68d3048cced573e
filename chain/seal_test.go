package chain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
)

// longSealEngine is chaintest's engine with a seal bound of its own.
type longSealEngine struct{ ct.Engine }

func (longSealEngine) MaxSealSize() int { return 4096 }

var _ chain.SealBounder = longSealEngine{}

// TestSealBoundIsTheEngines: an engine without a bound of its own takes
// seals up to chain.DefaultSealSize, one with a bound takes seals up to
// it; a longer seal makes the block invalid, whatever the decoder admits.
func TestSealBoundIsTheEngines(t *testing.T) {
	cases := []struct {
		name   string
		engine chain.Engine
		limit  int
	}{
		{"default", ct.Engine{}, chain.DefaultSealSize},
		{"own bound", longSealEngine{}, 4096},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := chain.SealLimit(tc.engine); got != tc.limit {
				t.Fatalf("SealLimit %d, want %d", got, tc.limit)
			}
			for _, n := range []int{tc.limit, tc.limit + 1} {
				clk := ct.NewClock(ct.GenesisTime)
				c := openChain(t, tc.engine, clk)
				clk.Advance(time.Second)
				b, err := c.BuildBlock(ct.Addr(0), nil)
				if err != nil {
					t.Fatal(err)
				}
				b.Header.Seal = make([]byte, n)
				err = relay(t, c, b)
				if n <= tc.limit && err != nil {
					t.Fatalf("seal of %d bytes refused: %v", n, err)
				}
				if n > tc.limit && !errors.Is(err, chain.ErrBadSeal) {
					t.Fatalf("seal of %d bytes: %v, want %v", n, err, chain.ErrBadSeal)
				}
			}
		})
	}
}
