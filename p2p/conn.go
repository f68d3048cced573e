package p2p

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"time"
)

func (s *Server) ourHello() *Hello {
	head := s.chain.Head()
	return &Hello{
		Version: ProtocolVersion, ChainID: s.chain.Genesis().ChainID, Genesis: s.chain.GenesisHeader().Hash(),
		Head: head.Hash(), Height: head.Height(), Weight: s.chain.HeadWeight(), ListenAddr: s.Addr(),
	}
}

// handshake runs the transport handshake on raw (as the dialler unless
// inbound; want is the id the dialled address named, or nil), which proves
// the other side's node key and encrypts what follows, then exchanges
// hellos inside the encrypted channel. It returns the secured connection
// and the other side's hello.
func (s *Server) handshake(raw net.Conn, inbound bool, want []byte) (*Conn, *Hello, error) {
	raw.SetDeadline(s.clock.Now().Add(handshakeTimeout))
	var conn *Conn
	var err error
	if inbound {
		conn, err = SecureAccept(raw, s.key)
	} else {
		conn, err = SecureDial(raw, s.key, want)
	}
	if err != nil {
		// Nothing can be said to a peer the channel was not set up with
		// (runConn logs a refusal of us, an *EarlyRefusal).
		if !errors.Is(err, errRefusedUs) {
			s.log.Warn("Refused peer", "addr", raw.RemoteAddr(), "reason", err)
		}
		return nil, nil, err
	}
	if err := conn.WriteMsg(s.ourHello()); err != nil {
		return nil, nil, fmt.Errorf("handshake with %s: %w", raw.RemoteAddr(), err)
	}
	theirs, err := readHello(conn)
	if err != nil {
		return nil, nil, s.refuse(conn, err)
	}
	if reason := s.checkHello(conn.RemoteID(), theirs); reason != "" {
		return nil, nil, s.refuse(conn, errors.New(reason))
	}
	raw.SetDeadline(time.Time{})
	return conn, theirs, nil
}

// errRefusedUs is a Disconnect received during the handshake.
var errRefusedUs = errors.New("refused by peer")

// readHello reads the other side's hello.
func readHello(conn *Conn) (*Hello, error) {
	m, err := conn.ReadMsg()
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	switch m := m.(type) {
	case *Hello:
		return m, nil
	case *Disconnect:
		return nil, fmt.Errorf("%w: %s", errRefusedUs, m.Reason)
	}
	return nil, fmt.Errorf("handshake: unexpected message %d", m.code())
}

// runConn authenticates the other side (which must be the node want names,
// when not nil) and serves it until it disconnects.
func (s *Server) runConn(raw net.Conn, inbound, static bool, want []byte) error {
	defer raw.Close()
	conn, hello, err := s.handshake(raw, inbound, want)
	if inbound {
		s.handshakeDone(raw)
	}
	if err != nil {
		if errors.Is(err, errRefusedUs) {
			s.log.Warn("Peer refused us", "addr", raw.RemoteAddr(), "err", err)
		}
		return err
	}
	p := newPeer(s, conn, hello, inbound, static)
	if reason := s.register(p); reason != "" {
		return s.refuse(conn, errors.New(reason))
	}
	s.peerUp(p)
	s.log.Info("Peer connected", "id", short(p.id), "addr", conn.RemoteAddr(), "inbound", inbound, "height", hello.Height)
	s.spawn(p.writeLoop)
	s.spawn(p.pingLoop)
	p.send(&GetAddrs{})
	s.announcePool(p)
	s.channelsConnected(p)
	s.syncer.trigger()
	err = s.readLoop(p)
	p.close(errString(err))
	s.unregister(p)
	<-p.written
	reason, _ := p.reason.Load().(string)
	s.log.Info("Peer disconnected", "id", short(p.id), "addr", conn.RemoteAddr(), "reason", reason)
	return err
}

func errString(err error) string {
	if err == nil {
		return "closed"
	}
	return err.Error()
}

// refuse tells the other side why, inside the encrypted channel; both sides
// log the reason.
func (s *Server) refuse(conn *Conn, reason error) error {
	if errors.Is(reason, errRefusedUs) {
		return reason
	}
	s.log.Warn("Refused peer", "addr", conn.RemoteAddr(), "reason", reason)
	conn.SetWriteDeadline(s.clock.Now().Add(time.Second))
	conn.WriteMsg(&Disconnect{Reason: truncate(reason.Error())})
	return reason
}

// checkHello checks the hello of the peer with the proven id.
func (s *Server) checkHello(id []byte, h *Hello) string {
	switch {
	case h.Version != ProtocolVersion:
		return fmt.Sprintf("protocol version %d, want %d", h.Version, ProtocolVersion)
	case h.ChainID != s.chain.Genesis().ChainID:
		return fmt.Sprintf("chain id %d, want %d", h.ChainID, s.chain.Genesis().ChainID)
	case h.Genesis != s.chain.GenesisHeader().Hash():
		return fmt.Sprintf("genesis %x, want %x", h.Genesis, s.chain.GenesisHeader().Hash())
	case bytes.Equal(id, s.nodeID):
		return "connected to self"
	}
	return ""
}
