package p2ptest

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/p2p"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Timeout bounds each read and write of a Peer. The deadlines are set from
// time.Now, as net.Conn deadlines are wall-clock by nature (inside a
// testing/synctest bubble, the bubble's time).
const Timeout = 30 * time.Second

// Key returns a deterministic node key for seed.
func Key(seed int) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte(fmt.Sprintf("p2ptest key %d", seed))))
	if err != nil {
		panic(err) // a keccak output is a valid key but with negligible probability
	}
	return k
}

// Hello is a hello for the genesis block that g and engine e build, with
// weight.
func Hello(g *chain.Genesis, e chain.GenesisInit, weight *big.Int) *p2p.Hello {
	gen, _ := g.Block(e) // the genesis state is not needed
	return &p2p.Hello{Version: p2p.ProtocolVersion, ChainID: g.ChainID, Genesis: gen.Hash(), Head: gen.Hash(), Weight: weight}
}

// Peer is a connection to a node, past the handshake.
type Peer struct {
	// Raw is the stream under the encryption: writing to it injects bytes
	// as a middlebox could.
	Raw  net.Conn
	Conn *p2p.Conn
	Them *p2p.Hello // the node's hello
}

// Refused is a handshake the node ended with a Disconnect: before the
// transport handshake, in plaintext in place of its preamble (admission),
// or inside the encrypted channel (the hello, a slot).
type Refused struct{ Reason string }

func (r *Refused) Error() string { return "refused: " + r.Reason }

// Dial connects to addr (host:port or <id>@host:port), runs the transport
// handshake as key, sends hello and returns once the node has admitted it.
// A refusal is a *Refused error.
func Dial(ctx context.Context, tr p2p.Transport, addr string, key *ecdsa.PrivateKey, hello *p2p.Hello) (*Peer, error) {
	want, hostport, err := p2p.ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	raw, err := tr.Dial(ctx, hostport)
	if err != nil {
		return nil, err
	}
	p, err := handshake(raw, key, want, hello)
	if err != nil {
		raw.Close()
		return nil, err
	}
	return p, nil
}

func handshake(raw net.Conn, key *ecdsa.PrivateKey, want []byte, hello *p2p.Hello) (*Peer, error) {
	raw.SetDeadline(time.Now().Add(Timeout))
	conn, err := p2p.SecureDial(raw, key, want)
	if early := (*p2p.EarlyRefusal)(nil); errors.As(err, &early) {
		return nil, &Refused{Reason: early.Reason}
	}
	if err != nil {
		return nil, err
	}
	raw.SetDeadline(time.Time{})
	p := &Peer{Raw: raw, Conn: conn}
	if err := p.Send(hello); err != nil {
		return nil, err
	}
	if p.Them, err = Await[*p2p.Hello](p); err != nil {
		return nil, err
	}
	// An admitted peer is first asked for addresses; a refused one gets
	// the reason (a ban, no slot) instead.
	if _, err := Await[*p2p.GetAddrs](p); err != nil {
		return nil, err
	}
	return p, nil
}

// Close closes the connection.
func (p *Peer) Close() error { return p.Raw.Close() }

// Send writes m.
func (p *Peer) Send(m p2p.Msg) error {
	p.Raw.SetWriteDeadline(time.Now().Add(Timeout))
	return p.Conn.WriteMsg(m)
}

// SendFrame writes an authentic frame of any content (a code byte and a
// payload, as p2p.EncodeMsg makes them): a malformed message, an unknown
// code.
func (p *Peer) SendFrame(frame []byte) error {
	p.Raw.SetWriteDeadline(time.Now().Add(Timeout))
	return p.Conn.WriteFrame(frame)
}

// Inject writes raw bytes under the encryption, as a middlebox could.
func (p *Peer) Inject(b []byte) error {
	p.Raw.SetWriteDeadline(time.Now().Add(Timeout))
	_, err := p.Raw.Write(b)
	return err
}

// Read reads the next message.
func (p *Peer) Read() (p2p.Msg, error) {
	p.Raw.SetReadDeadline(time.Now().Add(Timeout))
	return p.Conn.ReadMsg()
}

// Await reads until a T arrives, skipping other messages (and answering
// pings, as a peer that reads does); a Disconnect is a *Refused error.
func Await[T p2p.Msg](p *Peer) (T, error) {
	var zero T
	for {
		m, err := p.Read()
		if err != nil {
			return zero, fmt.Errorf("waiting for %T: %w", zero, err)
		}
		if t, ok := m.(T); ok {
			return t, nil
		}
		if d, ok := m.(*p2p.Disconnect); ok {
			return zero, &Refused{Reason: d.Reason}
		}
		p.pong(m)
	}
}

// pong answers m if it is a ping; a write failure shows on the next read.
func (p *Peer) pong(m p2p.Msg) {
	if ping, ok := m.(*p2p.Ping); ok {
		p.Send(&p2p.Pong{Nonce: ping.Nonce})
	}
}

// Disconnected reads until the node hangs up, answering pings, and returns
// the reason it gave ("" if it closed without one).
func (p *Peer) Disconnected() (string, error) {
	for {
		m, err := p.Read()
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("waiting for the node to hang up: %w", err)
		}
		if d, ok := m.(*p2p.Disconnect); ok {
			return d.Reason, nil
		}
		p.pong(m)
	}
}

// RandomHash is a hash no chain has.
func RandomHash(i int) common.Hash { return crypto.Keccak256Hash([]byte(fmt.Sprintf("unknown %d", i))) }
