package p2p_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/addrman"
	"github.com/chaind/chaind/p2p/p2ptest"
)

// attackGroups is how many IPv4 /16s the attacker of these tests owns:
// 10.100.0.0/16 to 10.115.0.0/16.
const attackGroups = 16

// attackerIP is the IP of the attacker's connection i in group g.
func attackerIP(g, i int) string { return fmt.Sprintf("10.%d.%d.%d", 100+g, 1+i/250, 1+i%250) }

// TestEclipseFloodKeepsHonestPeers: an attacker with fresh ids from 16
// network groups keeps flooding the victim's inbound slots and planting
// addresses of its own listening nodes. The victim keeps its honest
// outbound peer, admits an honest inbound peer that serves it blocks (an
// attacker's newcomer evicts another attacker), never has two outbound peers
// in one group, and follows the honest chain throughout.
func TestEclipseFloodKeepsHonestPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		honestOut := w.node("10.0.0.1", 0, nil)
		victim := w.node("10.0.0.2", 0, func(c *p2p.Config) {
			c.MaxPeers = 12 // 8 inbound, 4 outbound
			c.Bootnodes = []string{honestOut.srv.Addr()}
		})
		poll.Until(t, time.Minute, "the victim to dial its bootnode", func() bool { return victim.srv.PeerCount() == 1 })
		// The attacker's listening nodes: two in each of four groups.
		var planted []string
		for g := range 4 {
			for k := range 2 {
				s := w.node(fmt.Sprintf("10.%d.0.%d", 100+g, 1+k), 0, nil)
				planted = append(planted, s.srv.NodeID()+"@"+s.srv.Addr())
			}
		}
		for i := range 56 { // and addresses where nothing listens
			planted = append(planted, fmt.Sprintf("%x@%s:30303", p2p.NodeIDOf(p2ptest.Key(5000+i)), attackerIP(i%attackGroups, 200+i)))
		}
		var mu sync.Mutex
		var conns []*p2ptest.Peer
		flood := func(round int) {
			for g := range attackGroups {
				h, err := w.hostile(victim, attackerIP(g, round), 1000+round*attackGroups+g, big.NewInt(0))
				if err != nil {
					continue
				}
				mu.Lock()
				conns = append(conns, h)
				mu.Unlock()
				h.Send(&p2p.Addrs{Addrs: planted})
				go h.Disconnected() // reads and answers pings until cut
			}
		}
		flood(0)
		if n := victim.srv.PeerCount(); n != 9 {
			t.Fatalf("%d peers after the first flood, want 9 (8 inbound slots full)", n)
		}
		// The honest inbound peer has a block the victim lacks, and keeps
		// dialling the victim (a static peer on its side).
		honestIn := w.node("10.50.0.1", 1, func(c *p2p.Config) { c.StaticPeers = []string{victim.srv.Addr()} })
		for round := 1; round <= 24; round++ { // two minutes
			time.Sleep(5 * time.Second)
			flood(round)
			if round%2 == 0 {
				ct.Mine(t, honestIn.chain, w.clk, ct.Addr(1), nil, nil)
			}
		}
		time.Sleep(5 * time.Second)
		peers := map[string]p2p.PeerInfo{}
		groups := map[string]string{}
		for _, p := range victim.srv.Peers() {
			peers[p.ID] = p
			if !p.Inbound {
				g := addrman.GroupOf(p.RemoteAddr)
				if other, dup := groups[g]; dup {
					t.Errorf("two outbound peers in group %s: %s and %s", g, other, p.RemoteAddr)
				}
				groups[g] = p.RemoteAddr
			}
		}
		if p, ok := peers[honestOut.srv.NodeID()]; !ok || p.Inbound {
			t.Error("the honest outbound peer is gone")
		}
		if _, ok := peers[honestIn.srv.NodeID()]; !ok {
			t.Error("the honest inbound peer is not connected")
		}
		if got, want := victim.chain.Head().Hash(), honestIn.chain.Head().Hash(); got != want {
			t.Errorf("victim at height %d, the honest chain at %d", victim.chain.Head().Height(), honestIn.chain.Head().Height())
		}
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
}

// TestHandshakeChurnCannotKeepPeersOut: 480 half-open connections from 16
// network groups, each reopened as soon as the node closes or refuses it,
// do not keep an honest peer from another group out for more than a few
// simulated seconds.
func TestHandshakeChurnCannotKeepPeersOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		victim := w.node("10.0.0.2", 1, nil)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 480 {
			host := w.net.Host(attackerIP(i%attackGroups, i/attackGroups))
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if conn, err := host.Dial(t.Context(), victim.srv.Addr()); err == nil {
						go func() { <-stop; conn.Close() }()
						io.Copy(io.Discard, conn) // never a byte back: half open until the node hangs up
						conn.Close()
					}
					time.Sleep(200 * time.Millisecond)
				}
			})
		}
		time.Sleep(3 * time.Second) // the churn is in full swing
		start := time.Now()
		var err error
		for range 8 {
			if _, err = w.hostile(victim, "10.200.0.1", 1, big.NewInt(0)); err == nil {
				break
			}
			t.Logf("honest peer refused at %v: %v", time.Since(start), err)
			time.Sleep(500 * time.Millisecond)
		}
		took := time.Since(start)
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatalf("the honest peer did not get in within %v: %v", took, err)
		}
		t.Logf("the honest peer got in after %v of churn", took)
	})
}

// TestRefusalsBeforeTheHandshakeSayWhy: a connection refused before its
// handshake (too many from its IP, too many attempts) is told why.
func TestRefusalsBeforeTheHandshakeSayWhy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 1, func(c *p2p.Config) { c.MaxInboundPerIP = 2 })
		for i := range 2 {
			if _, err := w.hostile(n, "10.0.0.66", i, big.NewInt(0)); err != nil {
				t.Fatal(err)
			}
		}
		_, err := w.hostile(n, "10.0.0.66", 2, big.NewInt(0))
		if r := refusal(t, err); !strings.Contains(r, "too many peers from 10.0.0.66") {
			t.Fatalf("refused with %q", r)
		}
		// Attempts from one IP: a burst, then one a second.
		var last error
		for range 25 {
			var h *p2ptest.Peer
			if h, last = w.hostile(n, "10.0.0.77", 100, big.NewInt(0)); last == nil {
				h.Close()
				synctest.Wait()
				continue
			}
			if errors.As(last, new(*p2ptest.Refused)) {
				break
			}
		}
		if r := refusal(t, last); !strings.Contains(r, "too many connection attempts from 10.0.0.77") {
			t.Fatalf("refused with %q", r)
		}
	})
}

// TestEarlyRefusalLoggedByTheDialler: a node refused before the handshake
// logs the reason it was given, as a refusal of it (not as one by it).
func TestEarlyRefusalLoggedByTheDialler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 1, func(c *p2p.Config) { c.MaxInboundPerIP = 1 })
		h, err := w.hostile(n, "10.0.0.2", 1, big.NewInt(0)) // takes 10.0.0.2's one place
		if err != nil {
			t.Fatal(err)
		}
		go h.Disconnected()
		logs := new(logBuffer)
		dialler := w.node("10.0.0.2", 1, func(c *p2p.Config) {
			c.ListenAddr = "10.0.0.2:30304"
			c.Logger = slog.New(slog.NewTextHandler(logs, nil))
		})
		if err := dialler.srv.AddPeer(n.srv.Addr()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := logs.String(); !strings.Contains(got, "Peer refused us") || !strings.Contains(got, "too many peers from 10.0.0.2") || strings.Contains(got, "Refused peer") {
			t.Fatalf("the dialler's log does not say it was refused and why:\n%s", got)
		}
		h.Close()
	})
}

// TestLoopbackLimitedUnlessTrusted: loopback is an address like any other
// (8 inbound peers per IP), unless the node is told to trust it.
func TestLoopbackLimitedUnlessTrusted(t *testing.T) {
	for _, trust := range []bool{false, true} {
		t.Run(fmt.Sprintf("trust=%v", trust), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				defer w.close()
				n := w.node("127.0.0.1", 1, func(c *p2p.Config) { c.TrustLoopback = trust; c.MaxPeers = 30 })
				admitted := 0
				var last error
				for i := range 12 {
					if _, last = w.hostile(n, "127.0.0.1", i, big.NewInt(0)); last == nil {
						admitted++
					}
				}
				switch {
				case trust && admitted != 12:
					t.Fatalf("%d of 12 loopback peers admitted when trusted: %v", admitted, last)
				case !trust && admitted != 8:
					t.Fatalf("%d of 12 loopback peers admitted, want 8 per IP", admitted)
				case !trust && !strings.Contains(refusal(t, last), "too many peers from 127.0.0.1"):
					t.Fatalf("refused with %v", last)
				}
			})
		})
	}
}

// TestAnchorsDialledFirstAfterRestart: the outbound peers of the last run
// are dialled at start, before any discovery round.
func TestAnchorsDialledFirstAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		anchors := filepath.Join(t.TempDir(), "anchors.json")
		honest := w.node("10.0.0.1", 0, nil)
		first := w.node("10.0.0.2", 0, func(c *p2p.Config) { c.AnchorsFile = anchors })
		if err := first.srv.AddPeer(honest.srv.Addr()); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, time.Minute, "the first run to connect", func() bool { return first.srv.PeerCount() == 1 })
		first.srv.Close()
		synctest.Wait()
		second := w.node("10.0.0.3", 0, func(c *p2p.Config) { c.AnchorsFile = anchors }) // no bootnodes, an empty book
		synctest.Wait()                                                                  // no time passes: no discovery round yet
		peers := second.srv.Peers()
		if len(peers) != 1 || peers[0].ID != honest.srv.NodeID() || peers[0].Inbound {
			t.Fatalf("after restart: peers %+v, want the anchor as an outbound peer", peers)
		}
	})
}

// TestFeelerMovesAnAddressToTried: with its outbound slots full, a node
// still tests an address it heard of with a feeler connection, which moves
// it to the tried table and hangs up.
func TestFeelerMovesAnAddressToTried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		honest := w.node("10.0.0.1", 0, nil)
		other := w.node("10.7.0.1", 0, func(c *p2p.Config) { c.NoDiscover = true })                                   // does not dial back
		n := w.node("10.0.0.2", 0, func(c *p2p.Config) { c.MaxPeers = 3; c.Bootnodes = []string{honest.srv.Addr()} }) // 1 outbound
		poll.Until(t, time.Minute, "the bootnode", func() bool { return n.srv.PeerCount() == 1 })
		h, err := w.hostile(n, "10.9.0.1", 1, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		go h.Disconnected()
		h.Send(&p2p.Addrs{Addrs: []string{other.srv.NodeID() + "@" + other.srv.Addr()}})
		synctest.Wait()
		if n.srv.Tried(other.srv.Addr()) {
			t.Fatal("an address told by a peer is in tried before any connection")
		}
		time.Sleep(2*time.Minute + time.Second)
		if !n.srv.Tried(other.srv.Addr()) {
			t.Fatal("no feeler moved the address to tried")
		}
		for _, p := range n.srv.Peers() {
			if p.ID == other.srv.NodeID() {
				t.Fatalf("the feeler stayed connected: %+v", p)
			}
		}
		h.Close()
	})
}

// TestInboundEvictionTakesFromTheBiggestGroup: with every inbound slot
// taken, a newcomer evicts a peer of the most represented network group,
// never the one peer of another group that connected first.
func TestInboundEvictionTakesFromTheBiggestGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 1, func(c *p2p.Config) { c.MaxPeers = 6 }) // 4 inbound
		loner, err := w.hostile(n, "10.2.0.1", 1, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		go loner.Disconnected()
		var crowd []*p2ptest.Peer
		for i := range 3 {
			time.Sleep(time.Second)
			h, err := w.hostile(n, fmt.Sprintf("10.1.0.%d", 1+i), 10+i, big.NewInt(0))
			if err != nil {
				t.Fatal(err)
			}
			crowd = append(crowd, h)
		}
		time.Sleep(time.Second)
		newcomer, err := w.hostile(n, "10.3.0.1", 20, big.NewInt(0))
		if err != nil {
			t.Fatalf("the newcomer was refused: %v", err)
		}
		go newcomer.Disconnected()
		var evicted atomic.Int32
		for _, h := range crowd {
			go func() {
				if r, _ := h.Disconnected(); strings.Contains(r, "evicted") {
					evicted.Add(1)
				}
			}()
		}
		synctest.Wait()
		ids := map[string]bool{}
		for _, p := range n.srv.Peers() {
			ids[p.ID] = true
		}
		if !ids[fmt.Sprintf("%x", p2p.NodeIDOf(p2ptest.Key(1)))] {
			t.Fatal("the only peer of its group was evicted")
		}
		if len(ids) != 4 || evicted.Load() != 1 {
			t.Fatalf("%d peers, %d of the crowd evicted; want 4 peers, 1 evicted", len(ids), evicted.Load())
		}
		loner.Close()
		newcomer.Close()
		for _, h := range crowd {
			h.Close()
		}
	})
}
