package p2p_test

import (
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/p2ptest"
)

// TestAnnouncementsDeduplicated: a block announced by two peers is asked of
// one of them only.
func TestAnnouncementsDeduplicated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 1, nil)
		a, err := w.hostile(n, "10.0.0.66", 1, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		b, err := w.hostile(n, "10.0.0.67", 2, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		x := p2ptest.RandomHash(1)
		a.Send(&p2p.NewBlock{Hash: x, Height: 2, Weight: big.NewInt(0)})
		if _, err := p2ptest.Await[*p2p.GetBlocks](a); err != nil {
			t.Fatal(err)
		}
		b.Send(&p2p.NewBlock{Hash: x, Height: 2, Weight: big.NewInt(0)})
		b.Raw.SetReadDeadline(time.Now().Add(15 * time.Second)) // within a's request timeout
		for {
			m, err := b.Conn.ReadMsg()
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := m.(*p2p.GetBlocks); ok {
				t.Fatal("the block was asked of both peers")
			}
		}
	})
}

// TestUnservedAnnouncementsCost: a peer that announces blocks and answers
// the requests for them with nothing is banned after five.
func TestUnservedAnnouncementsCost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 1, nil)
		h, err := w.hostile(n, "10.0.0.66", 1, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		served := 0
		for i := range 10 {
			if err := h.Send(&p2p.NewBlock{Hash: p2ptest.RandomHash(i), Height: 2, Weight: big.NewInt(0)}); err != nil {
				break
			}
			req, err := p2ptest.Await[*p2p.GetBlocks](h)
			if err != nil {
				if reason := refusal(t, err); !strings.Contains(reason, "does not serve") {
					t.Fatalf("dropped with %q", reason)
				}
				break
			}
			h.Send(&p2p.Blocks{ID: req.ID})
			served++
			synctest.Wait()
		}
		if served != 5 {
			t.Fatalf("dropped after %d empty answers, want 5", served)
		}
		if _, err := w.hostile(n, "10.0.0.66", 1, big.NewInt(0)); !strings.Contains(refusal(t, err), "banned") {
			t.Fatal("not banned")
		}
	})
}
