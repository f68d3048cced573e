package p2p_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/p2ptest"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
)

// relay dials a and b from host and pipes each connection into the other:
// an attacker with no key that hands each node the other's handshake bytes.
// It returns a function that cuts both connections.
func relay(t *testing.T, host p2p.Transport, a, b string) (stop func()) {
	t.Helper()
	ca, err := host.Dial(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := host.Dial(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(ca, cb)
	go io.Copy(cb, ca)
	return func() { ca.Close(); cb.Close() }
}

// peerFrom is the peer of n with id, and whether it came from ip.
func peerFrom(n *testNode, id, ip string) (found, fromIP bool) {
	for _, p := range n.srv.Peers() {
		if p.ID == id {
			host, _, _ := net.SplitHostPort(p.RemoteAddr)
			return true, host == ip
		}
	}
	return false, false
}

// TestRelayCannotPoseAsAnotherNode: an attacker that dials A and B and
// relays their handshake bytes to each other is admitted by neither, under
// either's id, however many times it tries.
func TestRelayCannotPoseAsAnotherNode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		a := w.node("10.0.0.1", 1, nil)
		b := w.node("10.0.0.2", 1, nil)
		for try := range 3 {
			stop := relay(t, w.net.Host("10.0.0.66"), a.srv.Addr(), b.srv.Addr())
			synctest.Wait()
			for _, n := range []*testNode{a, b} {
				for _, p := range n.srv.Peers() {
					t.Errorf("try %d: a node admitted %s from %s through the relay", try, p.ID, p.RemoteAddr)
				}
			}
			time.Sleep(10 * time.Second) // past the handshake timeout
			stop()
			synctest.Wait()
		}
	})
}

// TestRelayCannotSquatAnID: while the relay attempt runs, the real B still
// connects to A, from its own address, under its id.
func TestRelayCannotSquatAnID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		a := w.node("10.0.0.1", 1, nil)
		b := w.node("10.0.0.2", 1, nil)
		stop := relay(t, w.net.Host("10.0.0.66"), a.srv.Addr(), b.srv.Addr())
		defer stop()
		synctest.Wait()
		if err := b.srv.AddPeer(a.srv.Addr()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		found, fromB := peerFrom(a, b.srv.NodeID(), "10.0.0.2")
		if !found || !fromB {
			t.Fatalf("A's peers: %+v; want B from 10.0.0.2", a.srv.Peers())
		}
	})
}

// flipper is a Transport whose connections flip one bit of the first write
// made after arm: a middlebox tampering with a frame in flight.
type flipper struct {
	p2p.Transport
	armed atomic.Bool
}

func (f *flipper) Dial(ctx context.Context, addr string) (net.Conn, error) {
	c, err := f.Transport.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &flipConn{Conn: c, f: f}, nil
}

type flipConn struct {
	net.Conn
	f *flipper
}

func (c *flipConn) Write(b []byte) (int, error) {
	if len(b) > 0 && c.f.armed.CompareAndSwap(true, false) {
		b = append([]byte(nil), b...)
		b[len(b)-1] ^= 1
	}
	return c.Conn.Write(b)
}

// TestTamperedFramesCloseWithoutBan: bytes injected under the encryption,
// and a bit flipped in an encrypted frame, fail the MAC and close the
// connection, but are not scored against the id the connection proved: the
// same peer, from the same IP, is admitted again every time.
func TestTamperedFramesCloseWithoutBan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 1, nil)
		tr := &flipper{Transport: w.net.Host("10.0.0.66")}
		dial := func() *p2ptest.Peer {
			t.Helper()
			h, err := p2ptest.Dial(t.Context(), tr, n.srv.Addr(), p2ptest.Key(1), p2ptest.Hello(w.g, ct.Engine{}, new(big.Int)))
			if err != nil {
				t.Fatalf("the tampered-with peer was not let in again: %v", err)
			}
			return h
		}
		junk := make([]byte, 256)
		rand.New(rand.NewSource(7)).Read(junk)
		tamper := []struct {
			name string
			do   func(h *p2ptest.Peer)
		}{
			{"injected bytes", func(h *p2ptest.Peer) { h.Inject(junk) }},
			{"flipped bit", func(h *p2ptest.Peer) {
				tr.armed.Store(true)
				h.Send(&p2p.Ping{Nonce: 1})
			}},
		}
		for round := range 3 { // a scored offence would have banned the id at the second
			for _, tc := range tamper {
				h := dial()
				tc.do(h)
				reason, err := h.Disconnected()
				if err != nil || !strings.Contains(reason, "frame failed authentication") {
					t.Fatalf("round %d, %s: reason %q (%v)", round, tc.name, reason, err)
				}
				h.Close()
				synctest.Wait()
			}
		}
		dial().Close()
	})
}

// TestDialWithWrongIDFails: an address whose id is not the key of the node
// there connects to nothing; with the right id it connects.
func TestDialWithWrongIDFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		a := w.node("10.0.0.1", 1, nil)
		b := w.node("10.0.0.2", 1, nil)
		wrong := fmt.Sprintf("%x@%s", p2p.NodeIDOf(p2ptest.Key(5)), b.srv.Addr())
		_, err := p2ptest.Dial(t.Context(), w.net.Host("10.0.0.9"), wrong, p2ptest.Key(1), p2ptest.Hello(w.g, ct.Engine{}, new(big.Int)))
		if !errors.Is(err, p2p.ErrWrongID) {
			t.Fatalf("dialling a wrong id: %v, want ErrWrongID", err)
		}
		if err := a.srv.AddPeer(wrong); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if a.srv.PeerCount() != 0 || b.srv.PeerCount() != 0 {
			t.Fatalf("a wrong id connected: %+v", a.srv.Peers())
		}
		if err := a.srv.AddPeer(b.srv.NodeID() + "@" + b.srv.Addr()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if found, _ := peerFrom(a, b.srv.NodeID(), "10.0.0.2"); !found {
			t.Fatalf("the right id did not connect: %+v", a.srv.Peers())
		}
	})
}

// helloV3 is the hello of protocol 3, which sent it in plaintext, framed by
// a 4-byte length and a code.
type helloV3 struct {
	Version    uint32
	ChainID    uint64
	Genesis    common.Hash
	Head       common.Hash
	Height     uint64
	Weight     *big.Int
	ListenAddr string
	NodeID     []byte
	Nonce      common.Hash
}

func readV3(t *testing.T, r io.Reader) *helloV3 {
	t.Helper()
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	h := new(helloV3)
	if err := rlp.DecodeBytes(buf[1:], h); err != nil || buf[0] != 0 {
		t.Fatalf("code %d: %v", buf[0], err)
	}
	return h
}

// TestOldProtocolPeerRefusedClearly: a node of protocol 3 (plaintext) or 4
// (before consensus bodies) that dials gets, where it expects the hello,
// one of the current version with the node's id (which it refuses by its
// version); the node logs why it refuses the peer and closes.
func TestOldProtocolPeerRefusedClearly(t *testing.T) {
	for _, old := range []uint32{3, 4} {
		t.Run(fmt.Sprint(old), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				defer w.close()
				logs := new(logBuffer)
				n := w.node("10.0.0.1", 1, func(c *p2p.Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
				conn, err := w.net.Host("10.0.0.9").Dial(t.Context(), n.srv.Addr())
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				payload, _ := rlp.EncodeToBytes(&helloV3{Version: old, ChainID: w.g.ChainID, Weight: new(big.Int), NodeID: p2p.NodeIDOf(p2ptest.Key(1))})
				frame := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)))
				conn.Write(append(append(frame, 0), payload...))
				if got := readV3(t, conn); got.Version != p2p.ProtocolVersion || fmt.Sprintf("%x", got.NodeID) != n.srv.NodeID() {
					t.Fatalf("the node greeted a v%d peer with %+v", old, got)
				}
				if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
					t.Fatalf("the node kept the connection: %v", err)
				}
				if want := fmt.Sprintf("protocol version %d, want %d (the peer runs a chaind from before", old, p2p.ProtocolVersion); !strings.Contains(logs.String(), want) {
					t.Fatalf("no clear refusal (%q) in the log:\n%s", want, logs)
				}
				if n.srv.PeerCount() != 0 {
					t.Fatalf("a v%d peer was admitted", old)
				}
			})
		})
	}
}
