package p2p_test

import (
	"math/big"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/p2p"
)

// serverGoroutines returns the stacks of goroutines running p2p or memnet
// code, other than the caller's (LevelDB keeps its own until its store
// closes).
func serverGoroutines() []string {
	buf := make([]byte, 1<<22)
	var out []string
	for i, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if i > 0 && (strings.Contains(g, "chaind/p2p.") || strings.Contains(g, "chaind/p2p/memnet.")) {
			out = append(out, g)
		}
	}
	return out
}

// TestSyncRelayAndClose: a fresh node syncs 300 blocks headers-first from a
// static peer, then gets a new block and a transaction by relay; Close
// leaves no goroutine behind.
func TestSyncRelayAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		a := w.node("10.0.0.1", 300, nil)
		b := w.node("10.0.0.2", 0, func(c *p2p.Config) { c.StaticPeers = []string{a.srv.Addr()} })
		poll.Until(t, time.Minute, "sync", func() bool { return b.chain.Head().Hash() == a.chain.Head().Hash() })

		ct.Mine(t, a.chain, w.clk, ct.Addr(1), nil, nil)
		poll.Until(t, time.Minute, "relay of a new block", func() bool { return b.chain.Head().Hash() == a.chain.Head().Hash() })

		tx := ct.Transfer(w.g, 0, 0, ct.Addr(1), big.NewInt(5))
		if err := a.pool.Add(tx); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, time.Minute, "relay of a transaction", func() bool { return b.pool.Get(tx.Hash()) != nil })
		if got := a.srv.Peers(); len(got) != 1 || got[0].ID != b.srv.NodeID() {
			t.Fatalf("a's peers %+v, want b (%s) authenticated", got, b.srv.NodeID())
		}

		b.srv.Close()
		a.srv.Close()
		synctest.Wait()
		if leaked := serverGoroutines(); len(leaked) > 0 {
			t.Fatalf("%d goroutines of the servers left after Close:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	})
}
