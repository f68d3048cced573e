package p2p_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/p2ptest"
)

// logBuffer collects a server's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// connected reports whether n has a peer with id.
func connected(n *testNode, id string) bool {
	for _, p := range n.srv.Peers() {
		if p.ID == id {
			return true
		}
	}
	return false
}

// TestSilentNonReaderIsCutOnTheClock: a peer that completes the handshake
// and then never reads, while the node sends it small blocks that its socket
// window absorbs (so no write ever blocks), is cut exactly when none of the
// node's pings has been answered for twice the write timeout, and banned
// the second time; an honest peer on the same node stays.
func TestSilentNonReaderIsCutOnTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		logs := &logBuffer{}
		n := w.node("10.0.0.1", 0, func(c *p2p.Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
		honest := w.node("10.0.0.2", 0, func(c *p2p.Config) { c.StaticPeers = []string{n.srv.Addr()} })
		synctest.Wait()
		h, err := w.hostile(n, "10.0.0.66", 1, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		hostileID := hex.EncodeToString(p2p.NodeIDOf(p2ptest.Key(1)))
		start := time.Now()
		// For 2×10 s the node sends both peers a block a second; the
		// hostile one keeps sending pings of its own and reads nothing.
		for time.Since(start) < 20*time.Second-time.Second {
			ct.Mine(t, n.chain, w.clk, ct.Addr(1), nil, nil)
			h.Send(&p2p.Ping{Nonce: 1})
			time.Sleep(time.Second)
			synctest.Wait()
		}
		if !connected(n, hostileID) {
			t.Fatalf("cut after %v, before the ping deadline", time.Since(start))
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if connected(n, hostileID) {
			t.Fatalf("the peer that does not read is still connected after %v", time.Since(start))
		}
		if !strings.Contains(logs.String(), "does not read what we send: no ping answered for 20s") {
			t.Fatalf("no log line says why the peer was cut:\n%s", logs)
		}
		// Scored down: cut a second time, its id is banned.
		again, err := w.hostile(n, "10.0.0.66", 1, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		time.Sleep(21 * time.Second)
		synctest.Wait()
		if _, err := w.hostile(n, "10.0.0.66", 1, big.NewInt(0)); !strings.Contains(refusal(t, err), "banned") {
			t.Fatal("cut twice for not reading, and not banned")
		}
		// The honest peer answered every ping and has every block.
		time.Sleep(time.Minute)
		synctest.Wait()
		if !connected(n, honest.srv.NodeID()) || honest.chain.Head().Hash() != n.chain.Head().Hash() {
			t.Fatalf("the honest peer was cut or left behind: height %d of %d", honest.chain.Head().Height(), n.chain.Head().Height())
		}
	})
}

// TestNonReaderIsCutOverTCP is the same over real loopback TCP with a short
// write timeout: the kernel's socket buffers take the node's small blocks,
// yet the peer that never reads is cut within a bounded time, and the honest
// peer stays and syncs.
func TestNonReaderIsCutOverTCP(t *testing.T) {
	w := newWorld(t)
	defer w.close()
	const writeTimeout = 2 * time.Second
	tcp := func(c *p2p.Config) {
		c.Transport, c.ListenAddr, c.WriteTimeout = p2p.TCP{}, "127.0.0.1:0", writeTimeout
	}
	n := w.node("", 0, tcp)
	honest := w.node("", 0, func(c *p2p.Config) { tcp(c); c.StaticPeers = []string{n.srv.Addr()} })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := p2ptest.Dial(ctx, p2p.TCP{}, n.srv.Addr(), p2ptest.Key(1), p2ptest.Hello(w.g, ct.Engine{}, big.NewInt(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	hostileID := hex.EncodeToString(p2p.NodeIDOf(p2ptest.Key(1)))
	poll.Until(t, 30*time.Second, "the honest peer to connect", func() bool { return connected(n, honest.srv.NodeID()) })
	// Blocks for both peers, and pings from the hostile one, until the node
	// cuts it.
	start := time.Now()
	for connected(n, hostileID) {
		if time.Since(start) > time.Minute {
			t.Fatal("the peer that does not read is still connected after a minute")
		}
		ct.Mine(t, n.chain, w.clk, ct.Addr(1), nil, nil)
		h.Send(&p2p.Ping{Nonce: 1})
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("cut after %v with a write timeout of %v", time.Since(start).Round(100*time.Millisecond), writeTimeout)
	poll.Until(t, 30*time.Second, "the honest peer to sync", func() bool {
		return honest.chain.Head().Hash() == n.chain.Head().Hash()
	})
	if !connected(n, honest.srv.NodeID()) {
		t.Fatal("the honest peer was cut")
	}
}
