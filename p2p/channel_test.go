package p2p_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/p2ptest"
)

const testCode = p2p.FirstChannelCode

// gossipChannel is an engine's channel as the tests see it: messages are
// "ok:<text>" (anything else does not decode), "bad:<text>" fails Handle
// (as a bad signature would); a handled message is recorded and gossiped on
// to the other peers, and a newly admitted peer is sent the pending ones.
type gossipChannel struct {
	srv *p2p.Server // set once the server exists

	mu      sync.Mutex
	got     []string // handled messages, in order
	pending [][]byte // sent to every peer on connect
}

func (g *gossipChannel) channel(rate float64, burst int) p2p.Channel {
	return p2p.Channel{
		Code: testCode, Name: "test", MaxSize: 64, Rate: rate, Burst: burst,
		Decode: func(b []byte) (any, error) {
			if !bytes.HasPrefix(b, []byte("ok:")) && !bytes.HasPrefix(b, []byte("bad:")) {
				return nil, errors.New("not a test message")
			}
			return string(b), nil
		},
		Handle: func(peer string, m any) error {
			s := m.(string)
			if strings.HasPrefix(s, "bad:") {
				return errors.New("bad signature")
			}
			g.mu.Lock()
			g.got = append(g.got, s)
			g.mu.Unlock()
			_, err := g.srv.Gossip(testCode, []byte(s), peer)
			return err
		},
		Connected: func(peer string) {
			g.mu.Lock()
			defer g.mu.Unlock()
			for _, m := range g.pending {
				g.srv.SendTo(peer, testCode, m)
			}
		},
	}
}

func (g *gossipChannel) handled() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.got...)
}

// channelNode starts a node carrying a gossipChannel.
func (w *world) channelNode(ip string, rate float64, burst int, edit func(*p2p.Config)) (*testNode, *gossipChannel) {
	g := new(gossipChannel)
	n := w.node(ip, 0, func(c *p2p.Config) {
		c.Channels = []p2p.Channel{g.channel(rate, burst)}
		if edit != nil {
			edit(c)
		}
	})
	g.srv = n.srv
	return n, g
}

// TestChannelGossip: a message of a registered channel crosses a line of
// three nodes, each handling it once (gossip does not send it back to a
// peer that has it); a node that connects later is sent the pending
// messages by the channel's Connected.
func TestChannelGossip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		a, ga := w.channelNode("10.0.0.1", 100, 100, nil)
		b, gb := w.channelNode("10.0.0.2", 100, 100, func(c *p2p.Config) { c.StaticPeers = []string{a.srv.Addr()} })
		_, gc := w.channelNode("10.0.0.3", 100, 100, func(c *p2p.Config) { c.StaticPeers = []string{b.srv.Addr()} })
		poll.Until(t, time.Minute, "a line of three", func() bool { return b.srv.PeerCount() == 2 })

		msg := []byte("ok:vote 1")
		if n, err := a.srv.Gossip(testCode, msg, ""); err != nil || n != 1 {
			t.Fatalf("gossip from a: queued to %d peers (%v), want 1", n, err)
		}
		poll.Until(t, time.Minute, "the message at c", func() bool { return len(gc.handled()) == 1 })
		synctest.Wait()
		for name, g := range map[string]*gossipChannel{"a": ga, "b": gb, "c": gc} {
			want := 1
			if name == "a" {
				want = 0 // its own message does not come back
			}
			if got := g.handled(); len(got) != want {
				t.Fatalf("%s handled %q, want %d message", name, got, want)
			}
		}

		gb.mu.Lock()
		gb.pending = [][]byte{[]byte("ok:pending")}
		gb.mu.Unlock()
		_, gd := w.channelNode("10.0.0.4", 100, 100, func(c *p2p.Config) { c.StaticPeers = []string{b.srv.Addr()} })
		poll.Until(t, time.Minute, "the pending message at a new peer", func() bool {
			got := gd.handled()
			return len(got) == 1 && got[0] == "ok:pending"
		})
	})
}

// TestChannelHostile: a channel message with a code no channel owns, over
// the channel's size, that does not decode, or that its handler refuses
// costs the sender its connection; one over the per-peer budget is dropped
// undecoded at no cost; one sent twice is handled once (and counts against
// the budget, which is checked first); gossip skips the peer that sent a
// message.
func TestChannelHostile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		// One message per 1000 s after a burst of 4: the budget does not
		// refill during the test.
		n, g := w.channelNode("10.0.0.1", 0.001, 4, nil)
		offences := []struct {
			name, reason string
			msg          p2p.ChannelMsg
		}{
			{"unknown code", "unknown message code", p2p.ChannelMsg{Code: testCode + 1, Payload: []byte("ok:x")}},
			{"oversized", "limit 64", p2p.ChannelMsg{Code: testCode, Payload: []byte("ok:" + strings.Repeat("x", 62))}},
			{"undecodable", "not a test message", p2p.ChannelMsg{Code: testCode, Payload: []byte("nonsense")}},
			{"refused by the handler", "bad signature", p2p.ChannelMsg{Code: testCode, Payload: []byte("bad:x")}},
		}
		for i, o := range offences {
			h, err := w.hostile(n, fmt.Sprintf("10.0.1.%d", i), i, new(big.Int))
			if err != nil {
				t.Fatal(err)
			}
			h.Send(&o.msg)
			if reason, err := h.Disconnected(); err != nil || !strings.Contains(reason, o.reason) {
				t.Fatalf("%s: reason %q (%v), want %q", o.name, reason, err, o.reason)
			}
		}
		if got := g.handled(); len(got) != 0 {
			t.Fatalf("offending messages handled: %q", got)
		}

		h, err := w.hostile(n, "10.0.2.1", 10, new(big.Int))
		if err != nil {
			t.Fatal(err)
		}
		h.Send(&p2p.ChannelMsg{Code: testCode, Payload: []byte("ok:0")})
		h.Send(&p2p.ChannelMsg{Code: testCode, Payload: []byte("ok:0")}) // a duplicate
		for i := 1; i < 8; i++ {
			h.Send(&p2p.ChannelMsg{Code: testCode, Payload: []byte(fmt.Sprintf("ok:%d", i))})
		}
		// A ping answered proves every message before it was read.
		h.Send(&p2p.Ping{Nonce: 7})
		if _, err := p2ptest.Await[*p2p.Pong](h); err != nil {
			t.Fatalf("a peer over budget was cut: %v", err)
		}
		if got, want := g.handled(), []string{"ok:0", "ok:1", "ok:2"}; !slices.Equal(got, want) {
			t.Fatalf("handled %q, want %q (a burst of 4 with the duplicate in it, handled once)", got, want)
		}
		if peers := n.srv.PeerCount(); peers != 1 {
			t.Fatalf("%d peers after the flood, want the flooder still connected", peers)
		}

		// Gossip skips a peer known to have the message (it sent it), and
		// sends a new one as it is.
		if q, err := n.srv.Gossip(testCode, []byte("ok:1"), ""); err != nil || q != 0 {
			t.Fatalf("gossip of the peer's own message queued to %d peers (%v), want none", q, err)
		}
		if q, err := n.srv.Gossip(testCode, []byte("ok:new"), ""); err != nil || q != 1 {
			t.Fatalf("gossip of a new message queued to %d peers (%v), want 1", q, err)
		}
		m, err := p2ptest.Await[*p2p.ChannelMsg](h)
		if err != nil || m.Code != testCode || string(m.Payload) != "ok:new" {
			t.Fatalf("the peer got %+v (%v), want the new message", m, err)
		}
	})
}

// TestChannelConfig: a channel with a code of p2p's own, a code taken
// twice, no budget or no handler is refused by New, and Gossip refuses a
// code no channel owns or a payload over the channel's size.
func TestChannelConfig(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		ok := new(gossipChannel).channel(1, 1)
		n := w.node("10.0.0.1", 0, nil)
		for name, edit := range map[string]func(*p2p.Channel){
			"p2p's code": func(c *p2p.Channel) { c.Code = 4 },
			"no size":    func(c *p2p.Channel) { c.MaxSize = 0 },
			"no budget":  func(c *p2p.Channel) { c.Rate = 0 },
			"no burst":   func(c *p2p.Channel) { c.Burst = 0 },
			"no handler": func(c *p2p.Channel) { c.Handle = nil },
		} {
			ch := ok
			edit(&ch)
			cfg := p2p.Config{Chain: n.chain, Pool: n.pool, Channels: []p2p.Channel{ch}}
			if _, err := p2p.New(cfg); err == nil {
				t.Errorf("%s: channel accepted", name)
			}
		}
		if _, err := p2p.New(p2p.Config{Chain: n.chain, Pool: n.pool, Channels: []p2p.Channel{ok, ok}}); err == nil || !strings.Contains(err.Error(), "code") {
			t.Errorf("a code registered twice: %v", err)
		}
		srv, err := p2p.New(p2p.Config{Chain: n.chain, Pool: n.pool, Channels: []p2p.Channel{ok}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Gossip(testCode+1, []byte("ok:x"), ""); !errors.Is(err, p2p.ErrUnknownChannel) {
			t.Errorf("gossip on an unknown code: %v", err)
		}
		if _, err := srv.Gossip(testCode, make([]byte, 65), ""); err == nil {
			t.Error("gossip of an oversized message accepted")
		}
	})
}

// TestSeenHeaderSeesEveryBranch: Config.SeenHeader is shown a pushed block
// whose parent the node does not have (the chain never sees it), and the
// headers of a sync, before they are checked.
func TestSeenHeaderSeesEveryBranch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		src := w.node("10.0.0.5", 3, nil) // a chain to take real blocks from
		var mu sync.Mutex
		var seen []uint64
		n := w.node("10.0.0.1", 0, func(c *p2p.Config) {
			c.SeenHeader = func(h *chain.Header) {
				mu.Lock()
				seen = append(seen, h.Height)
				mu.Unlock()
			}
		})
		h, err := w.hostile(n, "10.0.0.66", 1, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		third, _ := src.chain.BlockByHeight(3)
		enc, _ := third.MarshalBinary()
		h.Send(&p2p.PushBlock{Block: enc, Weight: big.NewInt(3)})
		req, err := p2ptest.Await[*p2p.GetHeaders](h)
		if err != nil {
			t.Fatal(err)
		}
		var headers [][]byte
		for height := uint64(1); height <= 3; height++ {
			b, _ := src.chain.BlockByHeight(height)
			enc, _ := b.Header.MarshalBinary()
			headers = append(headers, enc)
		}
		h.Send(&p2p.Headers{ID: req.ID, Headers: headers})
		h.Send(&p2p.Ping{Nonce: 9})
		if _, err := p2ptest.Await[*p2p.Pong](h); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, time.Minute, "the sync's headers seen", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) >= 4
		})
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(seen[:4], []uint64{3, 1, 2, 3}) {
			t.Fatalf("seen heights %v, want the pushed block 3, then the sync's 1, 2, 3", seen)
		}
	})
}
