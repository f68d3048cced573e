package p2p

import (
	"errors"
	"fmt"
	"slices"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
)

// handler acts on one message from p; an error means p misbehaved.
type handler func(s *Server, p *Peer, m Msg) error

// on adapts a handler of one message type to the table.
func on[T Msg](f func(*Server, *Peer, T) error) handler {
	return func(s *Server, p *Peer, m Msg) error { return f(s, p, m.(T)) }
}

// handlers has one function per message code.
var handlers = map[byte]handler{
	codeHello:      func(*Server, *Peer, Msg) error { return errors.New("second hello") },
	codeDisconnect: on((*Server).onDisconnect),
	codePing:       on((*Server).onPing),
	codePong:       on((*Server).onPong),
	codeNewBlock:   on((*Server).onNewBlock),
	codePushBlock:  on((*Server).onPushBlock),
	codeGetBlocks:  on((*Server).onGetBlocks),
	codeBlocks:     on(func(_ *Server, p *Peer, m *Blocks) error { p.deliver(m.ID, m); return nil }),
	codeGetHeaders: on((*Server).onGetHeaders),
	codeHeaders:    on(func(_ *Server, p *Peer, m *Headers) error { p.deliver(m.ID, m); return nil }),
	codeNewTxs:     on((*Server).onNewTxs),
	codeGetTxs:     on((*Server).onGetTxs),
	codeTxs:        on(func(_ *Server, p *Peer, m *Txs) error { p.deliver(m.ID, m); return nil }),
	codeGetAddrs:   on((*Server).onGetAddrs),
	codeAddrs:      on((*Server).onAddrs),
}

// readLoop serves p's messages until the connection fails.
func (s *Server) readLoop(p *Peer) error {
	for {
		p.conn.SetReadDeadline(s.clock.Now().Add(readTimeout))
		m, err := p.conn.ReadMsg()
		if err != nil {
			if p.ctx.Err() != nil {
				return nil
			}
			// A frame that fails its MAC (ErrFrameAuth) ends the
			// connection but costs the peer nothing: anyone on the path
			// could have injected it.
			if errors.Is(err, ErrBadMessage) {
				s.misbehaved(p, err.Error())
			}
			return err
		}
		if err := s.dispatch(p, m); err != nil {
			s.misbehaved(p, err.Error())
			return err
		}
	}
}

// dispatch hands m to its channel or to the handler of its code.
func (s *Server) dispatch(p *Peer, m Msg) error {
	if cm, ok := m.(*ChannelMsg); ok {
		return s.onChannel(p, cm)
	}
	return handlers[m.code()](s, p, m)
}

func (s *Server) onDisconnect(p *Peer, m *Disconnect) error {
	s.log.Info("Peer is disconnecting", "id", short(p.id), "reason", m.Reason)
	p.close("peer said: " + m.Reason)
	return nil
}

// onPing answers at once or, while p's queue is full, once it has room
// (a pong dropped would make us look like a peer that does not read).
func (s *Server) onPing(p *Peer, m *Ping) error {
	return p.respond(&Pong{Nonce: m.Nonce})
}

func (s *Server) onPong(p *Peer, m *Pong) error {
	p.ponged(m.Nonce, s.clock.Now())
	return nil
}

func (s *Server) onNewBlock(p *Peer, m *NewBlock) error {
	p.knownBlocks.add(m.Hash)
	p.setHead(m.Hash, m.Height, m.Weight)
	if s.chain.GetHeader(m.Hash) == nil {
		s.fetchAnnounced(p, m.Hash)
	}
	return nil
}

func (s *Server) onPushBlock(p *Peer, m *PushBlock) error {
	b := new(chain.Block)
	if err := b.UnmarshalBinary(m.Block); err != nil {
		return fmt.Errorf("undecodable pushed block: %w", err)
	}
	p.knownBlocks.add(b.Hash())
	p.setHead(b.Hash(), b.Height(), m.Weight)
	if s.chain.GetHeader(b.Hash()) == nil {
		s.importBlock(p, b)
	}
	return nil
}

func (s *Server) onGetBlocks(p *Peer, m *GetBlocks) error {
	return p.respond(&Blocks{ID: m.ID, Blocks: s.encodeBlocks(m.Hashes)})
}

func (s *Server) onGetHeaders(p *Peer, m *GetHeaders) error {
	headers, err := s.chain.HeadersAfter(m.Locator, int(m.Max))
	if err != nil {
		s.log.Error("Cannot serve headers", "err", err) // our failure: answer with what we have
	}
	out := make([][]byte, 0, len(headers))
	for _, h := range headers {
		enc, err := h.MarshalBinary()
		if err != nil {
			s.log.Error("Cannot encode header", "height", h.Height, "err", err)
			break
		}
		out = append(out, enc)
	}
	return p.respond(&Headers{ID: m.ID, Headers: out})
}

func (s *Server) onNewTxs(p *Peer, m *NewTxs) error {
	var want []common.Hash
	for _, h := range m.Hashes {
		if p.knownTxs.add(h) && s.pool.Get(h) == nil {
			want = append(want, h)
		}
	}
	if len(want) > 0 {
		s.fetchTxs(p, want)
	}
	return nil
}

func (s *Server) onGetTxs(p *Peer, m *GetTxs) error {
	out := make([][]byte, 0, len(m.Hashes))
	for _, h := range m.Hashes {
		if tx := s.pool.Get(h); tx != nil {
			if enc, err := tx.MarshalBinary(); err == nil {
				out = append(out, enc)
			}
		}
	}
	return p.respond(&Txs{ID: m.ID, Txs: out})
}

// onGetAddrs answers the first GetAddrs of a connection only, as Bitcoin
// Core does, so that a peer cannot read the whole book by asking again:
// our peers' listen addresses, each with the id the peer proved, then
// addresses from the book with the ids they were learnt with, so that a
// node dialling one admits only that node.
func (s *Server) onGetAddrs(p *Peer, _ *GetAddrs) error {
	if !p.addrsServed.CompareAndSwap(false, true) {
		return nil
	}
	var out []string
	for _, q := range s.peerList() {
		if q != p && q.hello.ListenAddr != "" && len(out) < maxAddrs {
			out = append(out, idAddr(q.id, q.hello.ListenAddr))
		}
	}
	for _, a := range s.book.Addresses(maxAddrs, s.clock.Now()) {
		_, key := addrKey(a)
		if len(out) < maxAddrs && !slices.ContainsFunc(out, func(b string) bool { _, k := addrKey(b); return k == key }) {
			out = append(out, a)
		}
	}
	p.send(&Addrs{Addrs: out})
	return nil
}

// onAddrs remembers the addresses that name a node id other than ours
// (learnAddrs); an address without an id could not be checked when
// dialled, and is dropped.
func (s *Server) onAddrs(p *Peer, m *Addrs) error {
	s.learnAddrs(p, m.Addrs)
	return nil
}
