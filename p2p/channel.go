package p2p

import (
	"errors"
	"fmt"
	"math"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/time/rate"
)

// FirstChannelCode is the lowest message code a Channel may own; the codes
// below it are p2p's own.
const FirstChannelCode byte = 0x40

// Channel is a message type that a component outside p2p (a consensus
// engine) registers in Config.Channels, as CometBFT's reactors register
// channels (and go-ethereum's protocols their message codes): p2p carries
// its messages, checks them against the channel's size limit and per-peer
// budget, remembers which peer has which, and hands them to Decode and
// Handle; it knows nothing of what they mean.
type Channel struct {
	// Code is the message code on the wire, at least FirstChannelCode.
	Code byte
	// Name names the channel in logs and errors.
	Name string
	// MaxSize bounds a message's payload in bytes; a larger message is the
	// sender's fault.
	MaxSize int
	// Rate (messages a second) and Burst are the per-peer budget: a token
	// bucket on the server's clock. A message over budget is dropped
	// before it is decoded, at no cost to the peer (it may be relaying
	// what others sent in a burst).
	Rate  float64
	Burst int
	// Decode decodes a payload and checks what needs no state (sizes,
	// ranges); an error is the sender's fault.
	Decode func(payload []byte) (any, error)
	// Handle acts on a decoded message from the peer with id peer (as
	// PeerInfo.ID). An error means the message is invalid (a bad
	// signature) and costs the sender its connection; a message that is
	// valid but of no use (already known, too old) returns nil. Handle
	// runs on the peer's read loop: it must not block.
	Handle func(peer string, m any) error
	// Connected, if set, is called once for every admitted peer, before
	// its messages are read (to send it what the channel has pending).
	Connected func(peer string)
}

func (c *Channel) check() error {
	switch {
	case c.Code < FirstChannelCode:
		return fmt.Errorf("channel %q: code %#x below %#x", c.Name, c.Code, FirstChannelCode)
	case c.MaxSize <= 0 || c.MaxSize >= MaxFrameSize:
		return fmt.Errorf("channel %q: max size %d out of (0, %d)", c.Name, c.MaxSize, MaxFrameSize)
	case c.Rate <= 0 || math.IsInf(c.Rate, 0) || c.Burst <= 0:
		return fmt.Errorf("channel %q: budget of %v a second, burst %d", c.Name, c.Rate, c.Burst)
	case c.Decode == nil || c.Handle == nil:
		return fmt.Errorf("channel %q: Decode and Handle are required", c.Name)
	}
	return nil
}

// ChannelMsg is a message of a registered channel as it travels: its code
// and the payload, which p2p does not decode.
type ChannelMsg struct {
	Code    byte
	Payload []byte
}

func (m *ChannelMsg) code() byte      { return m.Code }
func (m *ChannelMsg) validate() error { return nil } // the channel's MaxSize and Decode check it

// frame is m as it goes on the wire: the code, then the payload as it is.
func (m *ChannelMsg) frame() []byte { return append([]byte{m.Code}, m.Payload...) }

// id identifies m among the messages a peer is known to have.
func (m *ChannelMsg) id() common.Hash { return crypto.Keccak256Hash([]byte{m.Code}, m.Payload) }

// ErrUnknownChannel is a code no registered channel owns.
var ErrUnknownChannel = errors.New("unknown channel")

// channelTable checks the configured channels and indexes them by code.
func channelTable(chans []Channel) (map[byte]*Channel, error) {
	out := make(map[byte]*Channel, len(chans))
	for i := range chans {
		ch := &chans[i]
		if err := ch.check(); err != nil {
			return nil, fmt.Errorf("p2p: %w", err)
		}
		if old, ok := out[ch.Code]; ok {
			return nil, fmt.Errorf("p2p: channel %q: code %#x is channel %q's", ch.Name, ch.Code, old.Name)
		}
		out[ch.Code] = ch
	}
	return out, nil
}

// newLimiters is a peer's budget on every registered channel.
func (s *Server) newLimiters() map[byte]*rate.Limiter {
	out := make(map[byte]*rate.Limiter, len(s.channels))
	for code, ch := range s.channels {
		out[code] = rate.NewLimiter(rate.Limit(ch.Rate), ch.Burst)
	}
	return out
}

// onChannel checks a channel message from p against its channel's size and
// p's budget, and hands it to the channel unless p sent it before.
func (s *Server) onChannel(p *Peer, m *ChannelMsg) error {
	ch := s.channels[m.Code]
	if ch == nil {
		return fmt.Errorf("%w: unknown message code %d", ErrBadMessage, m.Code)
	}
	if len(m.Payload) > ch.MaxSize {
		return fmt.Errorf("%w: channel %s: message of %d bytes, limit %d", ErrBadMessage, ch.Name, len(m.Payload), ch.MaxSize)
	}
	if !p.limits[m.Code].AllowN(s.clock.Now(), 1) {
		s.log.Debug("Channel message over budget, dropped", "channel", ch.Name, "id", short(p.id))
		return nil
	}
	if !p.knownChannel.add(m.id()) {
		return nil
	}
	v, err := ch.Decode(m.Payload)
	if err != nil {
		return fmt.Errorf("%w: channel %s: %v", ErrBadMessage, ch.Name, err)
	}
	if err := ch.Handle(p.id, v); err != nil {
		return fmt.Errorf("channel %s: %w", ch.Name, err)
	}
	return nil
}

// Gossip queues a message of a registered channel to every peer not known
// to have it, except the peer with id except ("" for none); a peer whose
// queue is full misses it. It returns how many peers it was queued to.
func (s *Server) Gossip(code byte, payload []byte, except string) (int, error) {
	m, err := s.channelMsg(code, payload)
	if err != nil {
		return 0, err
	}
	id, frame, n := m.id(), m.frame(), 0
	for _, p := range s.peerList() {
		if p.id != except && p.knownChannel.add(id) && p.sendFrame(frame) {
			n++
		}
	}
	return n, nil
}

// SendTo queues a message of a registered channel to the peer with id
// peer; it reports whether it was queued (false: no such peer, a full
// queue, or the peer is known to have it).
func (s *Server) SendTo(peer string, code byte, payload []byte) (bool, error) {
	m, err := s.channelMsg(code, payload)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	p := s.peers[peer]
	s.mu.Unlock()
	return p != nil && p.knownChannel.add(m.id()) && p.sendFrame(m.frame()), nil
}

// channelMsg checks that code is registered and payload fits it.
func (s *Server) channelMsg(code byte, payload []byte) (*ChannelMsg, error) {
	ch := s.channels[code]
	if ch == nil {
		return nil, fmt.Errorf("p2p: %w: code %#x", ErrUnknownChannel, code)
	}
	if len(payload) > ch.MaxSize {
		return nil, fmt.Errorf("p2p: channel %s: message of %d bytes, limit %d", ch.Name, len(payload), ch.MaxSize)
	}
	return &ChannelMsg{Code: code, Payload: payload}, nil
}

// channelsConnected tells every channel that p was admitted.
func (s *Server) channelsConnected(p *Peer) {
	for _, ch := range s.channels {
		if ch.Connected != nil {
			ch.Connected(p.id)
		}
	}
}
