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
		NodeID: s.nodeID, Nonce: newNonce(),
	}
}

// handshake exchanges hellos and proofs of the node keys: each side signs the
// other's fresh nonce, so a node id cannot be claimed without its private
// key, nor a signature replayed on another connection. It returns the
// other side's authenticated hello.
func (s *Server) handshake(conn net.Conn) (*Hello, error) {
	conn.SetDeadline(s.clock.Now().Add(handshakeTimeout))
	ours := s.ourHello()
	if err := WriteMsg(conn, ours); err != nil {
		return nil, fmt.Errorf("handshake with %s: %w", conn.RemoteAddr(), err)
	}
	theirs, err := readHandshake[*Hello](conn)
	if err != nil {
		return nil, s.refuse(conn, err)
	}
	if reason := s.checkHello(theirs); reason != "" {
		return nil, s.refuse(conn, errors.New(reason))
	}
	auth, err := SignAuth(s.key, ours, theirs)
	if err != nil {
		return nil, err
	}
	if err := WriteMsg(conn, auth); err != nil {
		return nil, fmt.Errorf("handshake with %s: %w", conn.RemoteAddr(), err)
	}
	proof, err := readHandshake[*Auth](conn)
	if err != nil {
		return nil, s.refuse(conn, err)
	}
	if err := verifyAuth(proof, ours, theirs); err != nil {
		return nil, s.refuse(conn, err)
	}
	conn.SetDeadline(time.Time{})
	return theirs, nil
}

// errRefusedUs is a Disconnect received during the handshake.
var errRefusedUs = errors.New("refused by peer")

// readHandshake reads the next handshake message, which must be a T.
func readHandshake[T Msg](conn net.Conn) (T, error) {
	var zero T
	m, err := ReadMsg(conn)
	if err != nil {
		return zero, fmt.Errorf("handshake: %w", err)
	}
	if d, ok := m.(*Disconnect); ok {
		return zero, fmt.Errorf("%w: %s", errRefusedUs, d.Reason)
	}
	t, ok := m.(T)
	if !ok {
		return zero, fmt.Errorf("handshake: unexpected message %d", m.code())
	}
	return t, nil
}

// runConn authenticates the other side and serves it until it disconnects.
func (s *Server) runConn(conn net.Conn, inbound, static bool) error {
	defer conn.Close()
	hello, err := s.handshake(conn)
	if inbound {
		s.handshakeDone(conn)
	}
	if err != nil {
		if errors.Is(err, errRefusedUs) {
			s.log.Warn("Peer refused us", "addr", conn.RemoteAddr(), "err", err)
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

// refuse tells the other side why and closes; both sides log the reason.
func (s *Server) refuse(conn net.Conn, reason error) error {
	if errors.Is(reason, errRefusedUs) {
		return reason
	}
	s.log.Warn("Refused peer", "addr", conn.RemoteAddr(), "reason", reason)
	conn.SetWriteDeadline(s.clock.Now().Add(time.Second))
	WriteMsg(conn, &Disconnect{Reason: truncate(reason.Error())})
	return reason
}

func (s *Server) checkHello(h *Hello) string {
	switch {
	case h.Version != ProtocolVersion:
		return fmt.Sprintf("protocol version %d, want %d", h.Version, ProtocolVersion)
	case h.ChainID != s.chain.Genesis().ChainID:
		return fmt.Sprintf("chain id %d, want %d", h.ChainID, s.chain.Genesis().ChainID)
	case h.Genesis != s.chain.GenesisHeader().Hash():
		return fmt.Sprintf("genesis %x, want %x", h.Genesis, s.chain.GenesisHeader().Hash())
	case bytes.Equal(h.NodeID, s.nodeID):
		return "connected to self"
	}
	return ""
}
