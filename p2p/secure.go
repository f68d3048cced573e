package p2p

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/rlpx"
	"github.com/ethereum/go-ethereum/rlp"
)

// The transport: after the TCP (or memnet) connect, each side first sends a
// plaintext preamble with its protocol version and node id, then the dialer
// runs go-ethereum's RLPx handshake (ECIES) to the recipient's key, and every
// later frame is AES-CTR encrypted and MACed with the keys it agreed. The
// handshake proves both sides' static keys, so the node id of a peer is the
// key RLPx authenticated; the preamble only tells a dialer that knows just
// host:port which key to run the handshake to (a dialer that knows the id
// checks it). A man in the middle of a bare host:port dial can therefore
// only be itself, never pose as another node.
//
// The preamble is framed as the v3 protocol framed its messages (4-byte
// length, code, RLP) and laid out as the v3 Hello, so that a v3 node reads
// it as a Hello of the current version and refuses it with that reason, and a v3 node
// dialling us is recognised by the version in its plaintext Hello.
//
// A connection refused before the handshake (admission: too many from its
// IP, a ban) gets, in place of the preamble, a Disconnect with the reason,
// framed the same way and as plaintext, since nothing is agreed yet to
// encrypt it with: the dialler reads it where it expects the preamble and
// returns it as an *EarlyRefusal.

// maxPreamble bounds a preamble frame, checked before it is read (a v3 Hello
// with the longest listen address fits).
const maxPreamble = 1024

// preamble is the plaintext frame each side sends first. Only Version and
// NodeID are set; the other fields are those of the v3 Hello, left zero.
type preamble struct {
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

// Errors of the transport handshake.
var (
	// ErrProtocolVersion is a peer that speaks another protocol version.
	ErrProtocolVersion = errors.New("protocol version")
	// ErrWrongID is a dialled node whose key is not the id in its address.
	ErrWrongID = errors.New("node id does not match the address")
	// ErrFrameAuth is a frame that fails its MAC. Anyone on the path can
	// inject one, so it closes the connection but is no offence of the
	// authenticated peer.
	ErrFrameAuth = errors.New("frame failed authentication")
)

// EarlyRefusal is a connection the other side refused before the
// handshake, with the reason it gave in place of its preamble. It is
// plaintext, so anyone on the path could have forged it: it says why, and
// costs the other side nothing.
type EarlyRefusal struct{ Reason string }

func (e *EarlyRefusal) Error() string { return "refused before the handshake: " + e.Reason }

// Is makes an early refusal one of the refusals the server logs as such.
func (e *EarlyRefusal) Is(target error) bool { return target == errRefusedUs }

// Conn is a connection past the transport handshake: messages are framed,
// encrypted and authenticated by RLPx, and RemoteID is the other side's node
// id as the handshake proved it. One goroutine may read while another
// writes; writes must not be concurrent.
type Conn struct {
	raw      net.Conn
	in       *ioErrConn
	rc       *rlpx.Conn
	remoteID []byte
}

// ioErrConn remembers the last read error of the connection, so that a
// failed rlpx read can be told apart: the network's fault, or a frame that
// failed its MAC.
type ioErrConn struct {
	net.Conn
	readErr error
}

func (c *ioErrConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.readErr = err
	}
	return n, err
}

// SecureDial runs the transport handshake as the dialling side, with key.
// want is the node id the address carried, or nil for a bare host:port:
// then the key the recipient announces is taken, and the handshake proves
// that the other side holds it.
func SecureDial(conn net.Conn, key *ecdsa.PrivateKey, want []byte) (*Conn, error) {
	announced, err := exchangePreambles(conn, key)
	if err != nil {
		return nil, err
	}
	if want != nil && !bytes.Equal(announced, want) {
		return nil, fmt.Errorf("%w: %s announces %x, want %x", ErrWrongID, conn.RemoteAddr(), announced, want)
	}
	pub, err := crypto.DecompressPubkey(announced)
	if err != nil {
		return nil, fmt.Errorf("preamble from %s: node id: %w", conn.RemoteAddr(), err)
	}
	return secure(conn, key, pub)
}

// SecureAccept runs the transport handshake as the side that accepted conn,
// with key; the dialler's id is what the RLPx handshake proves (the id in
// its preamble is not used).
func SecureAccept(conn net.Conn, key *ecdsa.PrivateKey) (*Conn, error) {
	if _, err := exchangePreambles(conn, key); err != nil {
		return nil, err
	}
	return secure(conn, key, nil)
}

// secure runs RLPx over conn, as the initiator when dest is set.
func secure(conn net.Conn, key *ecdsa.PrivateKey, dest *ecdsa.PublicKey) (*Conn, error) {
	in := &ioErrConn{Conn: conn}
	rc := rlpx.NewConn(in, dest)
	remote, err := rc.Handshake(key)
	if err != nil {
		return nil, fmt.Errorf("encryption handshake with %s: %w", conn.RemoteAddr(), err)
	}
	return &Conn{raw: conn, in: in, rc: rc, remoteID: crypto.CompressPubkey(remote)}, nil
}

// exchangePreambles sends ours and reads the other side's, returning the id
// it announces.
func exchangePreambles(conn net.Conn, key *ecdsa.PrivateKey) ([]byte, error) {
	ours, err := plainFrame(codeHello, &preamble{Version: ProtocolVersion, Weight: new(big.Int), NodeID: NodeIDOf(key)})
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write(ours); err != nil {
		return nil, fmt.Errorf("preamble to %s: %w", conn.RemoteAddr(), err)
	}
	theirs, err := readPreamble(conn)
	if err != nil {
		return nil, fmt.Errorf("preamble from %s: %w", conn.RemoteAddr(), err)
	}
	if theirs.Version != ProtocolVersion {
		return nil, fmt.Errorf("%w %d, want %d%s", ErrProtocolVersion, theirs.Version, ProtocolVersion, versionHint(theirs.Version))
	}
	if len(theirs.NodeID) != nodeIDLen {
		return nil, fmt.Errorf("preamble from %s: node id of %d bytes, want %d", conn.RemoteAddr(), len(theirs.NodeID), nodeIDLen)
	}
	return theirs.NodeID, nil
}

// versionHint explains a version from before the encrypted transport.
func versionHint(v uint32) string {
	switch {
	case v < 4:
		return " (the peer runs a chaind from before the encrypted transport: upgrade it)"
	case v == 4:
		return " (the peer runs a chaind from before consensus bodies in blocks: upgrade it)"
	}
	return ""
}

// plainFrame frames v with code as a preamble is framed (4-byte length,
// code, RLP), in plaintext.
func plainFrame(code byte, v any) ([]byte, error) {
	payload, err := rlp.EncodeToBytes(v)
	if err != nil {
		return nil, fmt.Errorf("encode plaintext frame %d: %w", code, err)
	}
	frame := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)))
	frame = append(frame, code)
	return append(frame, payload...), nil
}

// writeEarlyRefusal tells the dialler of conn why it is refused, before
// the handshake: a plaintext Disconnect in place of our preamble.
func writeEarlyRefusal(conn net.Conn, reason string) error {
	frame, err := plainFrame(codeDisconnect, &Disconnect{Reason: truncate(reason)})
	if err != nil {
		return err
	}
	_, err = conn.Write(frame)
	return err
}

// readPreamble reads a preamble frame, its size checked before it is read;
// a refusal in its place is an *EarlyRefusal.
func readPreamble(r io.Reader) (*preamble, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 2 || n > maxPreamble {
		return nil, fmt.Errorf("%w: preamble of %d bytes, limit %d", ErrBadMessage, n, maxPreamble)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	switch buf[0] {
	case codeHello:
	case codeDisconnect:
		m, err := decodeMsg(codeDisconnect, buf[1:])
		if err != nil {
			return nil, err
		}
		return nil, &EarlyRefusal{Reason: m.(*Disconnect).Reason}
	default:
		return nil, fmt.Errorf("%w: preamble with code %d", ErrBadMessage, buf[0])
	}
	p := new(preamble)
	if err := rlp.DecodeBytes(buf[1:], p); err != nil {
		return nil, fmt.Errorf("%w: preamble: %v", ErrBadMessage, err)
	}
	return p, nil
}

// RemoteID is the other side's node id, proven by the handshake.
func (c *Conn) RemoteID() []byte { return c.remoteID }

// RemoteIDHex is RemoteID in hex, as node ids are written.
func (c *Conn) RemoteIDHex() string { return hex.EncodeToString(c.remoteID) }

// ReadMsg reads, authenticates, decodes and validates one message. A frame
// that fails its MAC is an ErrFrameAuth error; a message that does not
// decode or validate is an ErrBadMessage error.
func (c *Conn) ReadMsg() (Msg, error) {
	c.in.readErr = nil
	code, data, _, err := c.rc.Read()
	if err != nil {
		if c.in.readErr != nil {
			return nil, err // the connection failed
		}
		return nil, fmt.Errorf("%w: %v", ErrFrameAuth, err)
	}
	if code > 0xff {
		return nil, fmt.Errorf("%w: unknown message code %d", ErrBadMessage, code)
	}
	if byte(code) >= FirstChannelCode {
		// data is valid until the next Read: the payload is a copy.
		return &ChannelMsg{Code: byte(code), Payload: bytes.Clone(data)}, nil
	}
	return decodeMsg(byte(code), data)
}

// WriteMsg encodes and writes m.
func (c *Conn) WriteMsg(m Msg) error {
	frame, err := EncodeMsg(m)
	if err != nil {
		return err
	}
	return c.WriteFrame(frame)
}

// WriteFrame writes a frame made by EncodeMsg (a code byte and the
// payload), encrypted and MACed.
func (c *Conn) WriteFrame(frame []byte) error {
	if len(frame) == 0 {
		return fmt.Errorf("%w: empty frame", ErrBadMessage)
	}
	_, err := c.rc.Write(uint64(frame[0]), frame[1:])
	return err
}

// RemoteAddr is the address of the other end of the stream.
func (c *Conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline sets the stream's read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error { return c.raw.SetDeadline(t) }

// SetReadDeadline sets the stream's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.raw.SetReadDeadline(t) }

// SetWriteDeadline sets the stream's write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }

// Close closes the stream.
func (c *Conn) Close() error { return c.raw.Close() }
