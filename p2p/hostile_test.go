package p2p_test

import (
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/p2ptest"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

func refusal(t *testing.T, err error) string {
	t.Helper()
	var r *p2ptest.Refused
	if !errors.As(err, &r) {
		t.Fatalf("want a refusal, got %v", err)
	}
	return r.Reason
}

// TestHandshakeRefusals: another chain's genesis and another protocol
// version in the hello are refused with a reason.
func TestHandshakeRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 1, nil)
		dial := func(hello *p2p.Hello, key int) error {
			_, err := p2ptest.Dial(t.Context(), w.net.Host("10.0.0.9"), n.srv.Addr(), p2ptest.Key(key), hello)
			return err
		}
		other := p2ptest.Hello(ct.Genesis(3), ct.Engine{}, new(big.Int))
		if r := refusal(t, dial(other, 1)); !strings.Contains(r, "genesis") {
			t.Fatalf("other genesis refused with %q", r)
		}
		old := p2ptest.Hello(w.g, ct.Engine{}, new(big.Int))
		old.Version = 1
		if r := refusal(t, dial(old, 2)); !strings.Contains(r, "protocol version") {
			t.Fatalf("old version refused with %q", r)
		}
		if peers := n.srv.Peers(); len(peers) != 0 {
			t.Fatalf("peers after refusals: %+v", peers)
		}
	})
}

// TestHostileFramesAndBans: authentic frames with malformed RLP, an unknown
// code or an invalid message each cost the peer its connection with a
// reason; a second offence bans its id, and three banned ids ban their IP.
func TestHostileFramesAndBans(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 1, nil)
		invalid, err := p2p.EncodeMsg(&p2p.GetHeaders{Max: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		frames := []struct {
			name, reason string
			data         []byte
		}{
			{"malformed rlp", "bad message", []byte{4 /* NewBlock */, 0xff, 0x01}},
			{"unknown code", "bad message", []byte{250, 0xc0}},
			{"invalid message", "bad message", invalid},
		}
		for i, f := range frames {
			for offence := 1; offence <= 2; offence++ {
				h, err := w.hostile(n, "10.0.0.66", i, new(big.Int))
				if err != nil {
					t.Fatalf("%s, offence %d: %v", f.name, offence, err)
				}
				h.SendFrame(f.data)
				if reason, err := h.Disconnected(); err != nil || !strings.Contains(reason, f.reason) {
					t.Fatalf("%s: reason %q (%v), want %q", f.name, reason, err, f.reason)
				}
			}
			_, err := w.hostile(n, "10.0.0.66", i, new(big.Int))
			if i < 2 {
				if r := refusal(t, err); !strings.Contains(r, "banned") {
					t.Fatalf("%s: repeat offender let in: %q", f.name, r)
				}
			}
		}
		// Three ids banned from 10.0.0.66: a fresh id from there is refused
		// before the handshake, one from elsewhere is not.
		if _, err := w.hostile(n, "10.0.0.66", 99, new(big.Int)); err == nil {
			t.Fatal("a fresh id from a banned IP was let in")
		}
		if _, err := w.hostile(n, "10.0.0.67", 99, new(big.Int)); err != nil {
			t.Fatalf("a peer from another IP: %v", err)
		}
	})
}

// TestLiarCannotStallSync: a peer claiming weight 2^511 that answers headers
// requests with nothing, and one that does not answer at all, are scored
// down and dropped, and the node syncs from the honest peer.
func TestLiarCannotStallSync(t *testing.T) {
	for _, silent := range []bool{false, true} {
		t.Run(fmt.Sprintf("silent=%v", silent), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				defer w.close()
				honest := w.node("10.0.0.1", 31, nil)
				fresh := w.node("10.0.0.2", 0, func(c *p2p.Config) { c.MaxPeers = 3 })
				liar, err := w.hostile(fresh, "10.0.0.66", 1, new(big.Int).Lsh(big.NewInt(1), 511))
				if err != nil {
					t.Fatal(err)
				}
				requests := 0
				done := make(chan string)
				go func() {
					defer close(done)
					for {
						req, err := p2ptest.Await[*p2p.GetHeaders](liar)
						if err != nil {
							var r *p2ptest.Refused
							if errors.As(err, &r) {
								done <- r.Reason
							}
							return
						}
						requests++
						if !silent {
							liar.Send(&p2p.Headers{ID: req.ID})
						}
					}
				}()
				if err := fresh.srv.AddPeer(honest.srv.Addr()); err != nil {
					t.Fatal(err)
				}
				reason := <-done
				if !strings.Contains(reason, "misbehaviour") {
					t.Fatalf("liar dropped with %q", reason)
				}
				poll.Until(t, 2*time.Minute, "sync from the honest peer", func() bool { return fresh.chain.Head().Height() == 31 })
				if requests > 1 {
					t.Fatalf("the liar got %d headers requests", requests)
				}
			})
		})
	}
}

// TestAnnouncementFlood: 200,000 announcements of unknown blocks that the
// peer never serves fetch at most the per-peer budget, keep memory bounded,
// and get the peer banned.
func TestAnnouncementFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 1, nil)
		h, err := w.hostile(n, "10.0.0.66", 1, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		var before, peak runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		sent := 0
		for ; sent < 200_000; sent++ {
			// Neither its hello nor its announcements are heavier than
			// the node's chain, so the announcements alone are tried (a
			// headers sync that timed out would drop the peer at once,
			// before the unserved announcements ban it).
			if err := h.Send(&p2p.NewBlock{Hash: p2ptest.RandomHash(sent), Height: 1, Weight: big.NewInt(1)}); err != nil {
				break // cut off
			}
			if sent%20_000 == 0 {
				synctest.Wait()
				if got := n.srv.Inflight(); got > 16 {
					t.Fatalf("%d announced blocks in flight after %d announcements", got, sent)
				}
			}
		}
		synctest.Wait()
		runtime.ReadMemStats(&peak)
		growth := int64(peak.HeapAlloc) - int64(before.HeapAlloc)
		t.Logf("%d announcements sent; heap %d MB before, %d MB after (growth %d MB)", sent, before.HeapAlloc>>20, peak.HeapAlloc>>20, growth>>20)
		if growth > 64<<20 {
			t.Fatalf("heap grew by %d MB", growth>>20)
		}
		// It serves none of them: once the requests time out it is banned.
		if reason, err := h.Disconnected(); err != nil || !strings.Contains(reason, "misbehaviour") {
			t.Fatalf("flooder dropped with %q (%v)", reason, err)
		}
		if _, err := w.hostile(n, "10.0.0.66", 1, big.NewInt(1)); !strings.Contains(refusal(t, err), "banned") {
			t.Fatal("flooder not banned")
		}
	})
}

// countingChain counts the blocks handed to InsertBlock, where signatures
// are recovered, and can make it fail as a full disk would.
type countingChain struct {
	*chain.Chain
	inserts int
	fail    error
}

func (c *countingChain) InsertBlock(b *chain.Block) error {
	c.inserts++
	if c.fail != nil {
		return c.fail
	}
	return c.Chain.InsertBlock(b)
}

// TestCheapChecksFirst: a pushed block with an unknown parent reaches no
// signature recovery and starts a headers sync; our own failure to store a
// valid block costs the peer nothing.
func TestCheapChecksFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		src := w.node("10.0.0.5", 3, nil) // a chain to take real blocks from
		var cc *countingChain
		n := w.node("10.0.0.1", 0, func(c *p2p.Config) {
			cc = &countingChain{Chain: c.Chain.(*chain.Chain)}
			c.Chain = cc
		})
		h, err := w.hostile(n, "10.0.0.66", 1, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		third, _ := src.chain.BlockByHeight(3)
		enc, _ := third.MarshalBinary()
		h.Send(&p2p.PushBlock{Block: enc, Weight: big.NewInt(3)})
		if _, err := p2ptest.Await[*p2p.GetHeaders](h); err != nil {
			t.Fatalf("no headers sync after an unknown-parent block: %v", err)
		}
		if cc.inserts != 0 {
			t.Fatalf("%d blocks went to InsertBlock", cc.inserts)
		}

		cc.fail = errors.New("write block: no space left on device")
		first, _ := src.chain.BlockByHeight(1)
		enc, _ = first.MarshalBinary()
		h.Send(&p2p.PushBlock{Block: enc, Weight: big.NewInt(1)})
		synctest.Wait()
		if cc.inserts != 1 {
			t.Fatalf("%d inserts, want the block tried once", cc.inserts)
		}
		h.Send(&p2p.Ping{Nonce: 5})
		if pong, err := p2ptest.Await[*p2p.Pong](h); err != nil || pong.Nonce != 5 {
			t.Fatalf("peer dropped for our disk failure: %v", err)
		}
	})
}

// TestNonReaderIsCut: a peer that asks for a block 256 times per request and
// never reads is cut once the write timeout passes, and scored down: the
// second time its id is banned. Memory stays within the per-peer budget.
func TestNonReaderIsCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 2, nil)
		txs := make([]*types.Transaction, 1400) // a block of about 160 KB
		for i := range txs {
			txs[i] = ct.Transfer(w.g, 0, uint64(i), ct.Addr(1), big.NewInt(1))
		}
		large := ct.Mine(t, n.chain, w.clk, ct.Addr(1), txs, nil)
		enc, _ := large.MarshalBinary()
		head := large.Hash()
		hashes := make([]common.Hash, 256)
		for i := range hashes {
			hashes[i] = head
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		peak := before.HeapAlloc
		for round := range 2 {
			h, err := w.hostile(n, "10.0.0.66", 1, big.NewInt(0))
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			for i := range 2000 {
				if err := h.Send(&p2p.GetBlocks{ID: uint64(i), Hashes: hashes}); err != nil {
					break
				}
			}
			synctest.Wait()
			runtime.ReadMemStats(&after)
			peak = max(peak, after.HeapAlloc)
			time.Sleep(time.Minute) // the write timeout passes
			synctest.Wait()
			if n.srv.PeerCount() != 0 {
				t.Fatalf("round %d: the peer that does not read is still connected", round)
			}
		}
		t.Logf("block of %d bytes asked for 2000 x 256 times: heap %d MB before, peak %d MB", len(enc), before.HeapAlloc>>20, peak>>20)
		if peak-before.HeapAlloc > 96<<20 {
			t.Fatalf("heap grew by %d MB", (peak-before.HeapAlloc)>>20)
		}
		if _, err := w.hostile(n, "10.0.0.66", 1, big.NewInt(0)); !strings.Contains(refusal(t, err), "banned") {
			t.Fatal("cut twice for not reading, and not banned")
		}
	})
}

// TestAddressBookBounded: 5,000 address messages from one peer at once
// leave at most 64 of its addresses in the book.
func TestAddressBookBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 1, func(c *p2p.Config) { c.NoDiscover = true })
		h, err := w.hostile(n, "10.0.0.66", 1, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		id := p2p.NodeIDOf(p2ptest.Key(2))
		for i := range 5000 {
			addrs := make([]string, 64)
			for j := range addrs {
				addrs[j] = fmt.Sprintf("%x@10.%d.%d.%d:30303", id, i/256, i%256, j)
			}
			h.Send(&p2p.Addrs{Addrs: addrs})
		}
		h.Send(&p2p.Ping{Nonce: 1})
		p2ptest.Await[*p2p.Pong](h)
		// The reply to our GetAddrs is taken, the rest dropped; of those
		// 64, the ones that land on a taken slot of the one new bucket
		// this source and address group reach are dropped too.
		if got := n.srv.BookSize(); got == 0 || got > 64 {
			t.Fatalf("address book holds %d addresses from one peer, want 1..64", got)
		}
	})
}

// TestBansDoNotFollowClaimedAddresses: a peer that misbehaves while
// claiming an honest node's listen address gets itself banned, not the
// honest node.
func TestBansDoNotFollowClaimedAddresses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		victim := w.node("10.0.0.1", 1, nil)
		honest := w.node("10.0.0.2", 1, nil)
		hello := p2ptest.Hello(w.g, ct.Engine{}, big.NewInt(0))
		hello.ListenAddr = honest.srv.Addr()
		for range 2 {
			h, err := p2ptest.Dial(t.Context(), w.net.Host("10.0.0.66"), victim.srv.Addr(), p2ptest.Key(1), hello)
			if err != nil {
				t.Fatal(err)
			}
			h.SendFrame([]byte{250, 0xc0})
			h.Disconnected()
		}
		if err := honest.srv.AddPeer(victim.srv.Addr()); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, time.Minute, "the honest node to connect", func() bool { return victim.srv.PeerCount() == 1 })
		if id := victim.srv.Peers()[0].ID; id != honest.srv.NodeID() {
			t.Fatalf("connected to %s, want the honest node", id)
		}
	})
}
