package p2p_test

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/memnet"
	"github.com/chaind/chaind/p2p/p2ptest"
)

// TestRequestTimeoutOnSimClock: on a simulated clock a sync peer that does
// not answer keeps its connection until exactly the request timeout and
// loses it then. (The liar reads nothing after the request, so the write
// timeout is set long enough that the cut of a peer that does not read, at
// twice the write timeout, cannot come at the same instant.)
func TestRequestTimeoutOnSimClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := clock.NewSim(time.Now())
		w := newWorld(t)
		defer w.close()
		w.net = memnet.New(sim, 1)
		n := w.node("10.0.0.1", 0, func(c *p2p.Config) { c.Clock, c.WriteTimeout = sim, time.Minute })
		liar, err := p2ptest.Dial(context.Background(), w.net.Host("10.0.0.66"), n.srv.Addr(), p2ptest.Key(1),
			p2ptest.Hello(w.g, ct.Engine{}, big.NewInt(1000)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p2ptest.Await[*p2p.GetHeaders](liar); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		sim.Advance(20*time.Second - time.Nanosecond)
		synctest.Wait()
		if n.srv.PeerCount() != 1 {
			t.Fatal("dropped before the request timed out")
		}
		sim.Advance(time.Nanosecond)
		synctest.Wait()
		if n.srv.PeerCount() != 0 {
			t.Fatal("still connected after the request timed out")
		}
		if reason, err := liar.Disconnected(); err != nil || !strings.Contains(reason, "request timed out") {
			t.Fatalf("reason %q (%v)", reason, err)
		}
	})
}
