package p2p

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/mempool"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// maxResponseBytes keeps a response of blocks well under MaxFrameSize.
const maxResponseBytes = MaxFrameSize / 2

// readLoop serves p's messages until the connection fails.
func (s *Server) readLoop(p *Peer) error {
	for {
		p.conn.SetReadDeadline(time.Now().Add(readTimeout))
		m, err := ReadMsg(p.conn)
		if err != nil {
			select {
			case <-p.closed:
				return nil
			default:
			}
			if errors.Is(err, ErrFrameTooLarge) || errors.Is(err, ErrBadMessage) {
				s.misbehaved(p, err.Error())
			}
			return err
		}
		if err := s.handle(p, m); err != nil {
			s.misbehaved(p, err.Error())
			return err
		}
	}
}

// handle acts on one message; an error means the peer misbehaved.
func (s *Server) handle(p *Peer, m Msg) error {
	switch m := m.(type) {
	case *Hello:
		return errors.New("second hello")
	case *Disconnect:
		s.log.Info("Peer is disconnecting", "id", p.id, "reason", m.Reason)
		p.close("peer said: " + m.Reason)
	case *Ping:
		p.send(&Pong{Nonce: m.Nonce})
	case *Pong:
		if m.Nonce == p.pingNonce.Load() {
			p.latency.Store(time.Now().UnixNano() - p.pingSent.Load())
		}
	case *NewBlock:
		p.knownBlocks.add(m.Hash)
		p.setHead(m.Hash, m.Height, m.Weight)
		if s.chain.GetHeader(m.Hash) == nil {
			go s.fetchAnnounced(p, m.Hash)
		}
	case *PushBlock:
		b := new(chain.Block)
		if err := b.UnmarshalBinary(m.Block); err != nil {
			return fmt.Errorf("undecodable pushed block: %w", err)
		}
		p.knownBlocks.add(b.Hash())
		p.setHead(b.Hash(), b.Height(), m.Weight)
		if s.chain.GetHeader(b.Hash()) == nil {
			s.importBlock(p, b)
		}
	case *GetBlocks:
		p.send(&Blocks{ID: m.ID, Blocks: s.encodeBlocks(m.Hashes)})
	case *Blocks, *Headers, *Txs:
		p.deliver(responseID(m), m)
	case *GetHeaders:
		headers, err := s.chain.HeadersAfter(m.Locator, int(m.Max))
		if err != nil {
			s.log.Error("Cannot serve headers", "err", err)
		}
		out := make([][]byte, 0, len(headers))
		for _, h := range headers {
			enc, err := h.MarshalBinary()
			if err != nil {
				return nil
			}
			out = append(out, enc)
		}
		p.send(&Headers{ID: m.ID, Headers: out})
	case *NewTxs:
		var want []common.Hash
		for _, h := range m.Hashes {
			if p.knownTxs.add(h) && s.pool.Get(h) == nil {
				want = append(want, h)
			}
		}
		if len(want) > 0 {
			go s.fetchTxs(p, want)
		}
	case *GetTxs:
		out := make([][]byte, 0, len(m.Hashes))
		for _, h := range m.Hashes {
			if tx := s.pool.Get(h); tx != nil {
				if enc, err := tx.MarshalBinary(); err == nil {
					out = append(out, enc)
				}
			}
		}
		p.send(&Txs{ID: m.ID, Txs: out})
	case *GetAddrs:
		p.send(&Addrs{Addrs: s.knownListenAddrs(p)})
	case *Addrs:
		s.mu.Lock()
		for _, a := range m.Addrs {
			if _, known := s.addrBook[a]; !known && a != s.Addr() {
				s.addrBook[a] = false
			}
		}
		s.mu.Unlock()
	default:
		return fmt.Errorf("unexpected message %T", m)
	}
	return nil
}

func responseID(m Msg) uint64 {
	switch m := m.(type) {
	case *Blocks:
		return m.ID
	case *Headers:
		return m.ID
	case *Txs:
		return m.ID
	}
	return 0
}

func (s *Server) knownListenAddrs(except *Peer) []string {
	var out []string
	for _, p := range s.peerList() {
		if p != except && p.hello.ListenAddr != "" && len(out) < maxAddrs {
			out = append(out, p.hello.ListenAddr)
		}
	}
	return out
}

// encodeBlocks returns the blocks we have among hashes, within the size budget.
func (s *Server) encodeBlocks(hashes []common.Hash) [][]byte {
	var out [][]byte
	size := 0
	for _, h := range hashes {
		b, err := s.chain.BlockByHash(h)
		if err != nil {
			continue
		}
		enc, err := b.MarshalBinary()
		if err != nil || size+len(enc) > maxResponseBytes {
			break
		}
		size += len(enc)
		out = append(out, enc)
	}
	return out
}

// fetchBlocks asks p for blocks and decodes them; a block that does not
// decode or was not asked for is p's fault.
func (s *Server) fetchBlocks(ctx context.Context, p *Peer, hashes []common.Hash) ([]*chain.Block, error) {
	id := p.nextID.Add(1)
	resp, err := p.request(ctx, &GetBlocks{ID: id, Hashes: hashes}, id)
	if err != nil {
		return nil, err
	}
	asked := make(map[common.Hash]bool, len(hashes))
	for _, h := range hashes {
		asked[h] = true
	}
	var out []*chain.Block
	for _, enc := range resp.(*Blocks).Blocks {
		b := new(chain.Block)
		if err := b.UnmarshalBinary(enc); err != nil {
			s.misbehaved(p, "undecodable block: "+err.Error())
			return nil, err
		}
		if !asked[b.Hash()] {
			s.misbehaved(p, fmt.Sprintf("sent block %x that was not asked for", b.Hash()))
			return nil, errors.New("unrequested block")
		}
		out = append(out, b)
	}
	return out, nil
}

// fetchAnnounced gets an announced block and imports it.
func (s *Server) fetchAnnounced(p *Peer, hash common.Hash) {
	s.mu.Lock()
	if s.inflight[hash] {
		s.mu.Unlock()
		return
	}
	s.inflight[hash] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, hash)
		s.mu.Unlock()
	}()
	blocks, err := s.fetchBlocks(context.Background(), p, []common.Hash{hash})
	if err != nil || len(blocks) == 0 {
		return
	}
	s.importBlock(p, blocks[0])
}

// importBlock inserts a block from p. It returns false when the block was
// refused as invalid (p has been dropped) or needs a sync first.
func (s *Server) importBlock(p *Peer, b *chain.Block) bool {
	p.knownBlocks.add(b.Hash())
	// Transactions we already admitted carry their recovered sender: use
	// those copies so that no signature is recovered twice.
	for i, tx := range b.Txs {
		if pooled := s.pool.Get(tx.Hash()); pooled != nil {
			b.Txs[i] = pooled
		}
	}
	err := s.chain.InsertBlock(b)
	switch {
	case err == nil:
		s.announce(b, p)
		return true
	case errors.Is(err, chain.ErrKnownBlock):
		return true
	case errors.Is(err, chain.ErrUnknownParent):
		s.syncer.trigger()
		return false
	case chain.IsRuleError(err):
		s.misbehaved(p, fmt.Sprintf("invalid block %d (%x): %v", b.Height(), b.Hash(), err))
		return false
	default:
		s.log.Error("Cannot import block", "height", b.Height(), "hash", b.Hash(), "err", err)
		return false
	}
}

// pushAll is the peer count up to which new blocks are pushed whole to every
// peer; above it they are pushed to the square root of the peers and
// announced to the rest (as Ethereum does).
const pushAll = 8

// announce sends b to every peer that does not know it (except from).
func (s *Server) announce(b *chain.Block, from *Peer) {
	weight, err := s.chain.Weight(b.Hash())
	if err != nil {
		return
	}
	enc, err := b.MarshalBinary()
	if err != nil {
		return
	}
	push := &PushBlock{Block: enc, Weight: weight}
	ann := &NewBlock{Hash: b.Hash(), Height: b.Height(), Weight: weight}
	peers := s.peerList()
	pushTo := len(peers)
	if pushTo > pushAll {
		pushTo = int(math.Sqrt(float64(pushTo)))
	}
	for i, p := range peers {
		if p == from || !p.knownBlocks.add(b.Hash()) {
			continue
		}
		if i < pushTo {
			p.send(push)
		} else {
			p.send(ann)
		}
	}
}

// Announce sends b to peers although it did not become canonical here (a
// validator's block that is not its head).
func (s *Server) Announce(b *chain.Block) { s.announce(b, nil) }

// onHead announces blocks that became canonical (mined here, or imported).
func (s *Server) onHead(ev chain.HeadEvent) {
	for _, b := range ev.Added {
		s.announce(b, nil)
	}
}

func (s *Server) onNewTxs(txs []*types.Transaction) {
	for _, tx := range txs {
		select {
		case s.txQueue <- tx.Hash():
		default: // a flood: peers will still get the transactions with the blocks
		}
	}
}

// announcePool tells a new peer about every pooled transaction, so that
// transactions that reached only one side of a partition, or a node that was
// down, spread once the nodes meet.
func (s *Server) announcePool(p *Peer) {
	hashes := s.pool.Hashes()
	for len(hashes) > 0 {
		n := min(len(hashes), maxHashes)
		for _, h := range hashes[:n] {
			p.knownTxs.add(h)
		}
		p.send(&NewTxs{Hashes: hashes[:n]})
		hashes = hashes[n:]
	}
}

// txBroadcastLoop announces new pool transactions in batches.
func (s *Server) txBroadcastLoop() {
	defer s.wg.Done()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var batch []common.Hash
	for {
		select {
		case <-s.quit:
			return
		case h := <-s.txQueue:
			batch = append(batch, h)
			if len(batch) < maxHashes {
				continue
			}
		case <-t.C:
		}
		if len(batch) == 0 {
			continue
		}
		for _, p := range s.peerList() {
			var fresh []common.Hash
			for _, h := range batch {
				if p.knownTxs.add(h) {
					fresh = append(fresh, h)
				}
			}
			if len(fresh) > 0 {
				p.send(&NewTxs{Hashes: fresh})
			}
		}
		batch = batch[:0]
	}
}

// txFaults are the refusals that an honest node never relays.
var txFaults = []error{chain.ErrBadSignature, chain.ErrWrongChainID, chain.ErrUnprotected, chain.ErrTxType,
	chain.ErrContractCreation, chain.ErrCalldata, chain.ErrTxTooLarge, chain.ErrValueTooLarge}

func (s *Server) fetchTxs(p *Peer, hashes []common.Hash) {
	id := p.nextID.Add(1)
	resp, err := p.request(context.Background(), &GetTxs{ID: id, Hashes: hashes}, id)
	if err != nil {
		return
	}
	for _, enc := range resp.(*Txs).Txs {
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(enc); err != nil {
			s.misbehaved(p, "undecodable transaction: "+err.Error())
			return
		}
		p.knownTxs.add(tx.Hash())
		if err := s.pool.Add(tx); err != nil {
			for _, fault := range txFaults {
				if errors.Is(err, fault) {
					s.misbehaved(p, fmt.Sprintf("relayed invalid transaction %s: %v", tx.Hash().Hex(), err))
					return
				}
			}
			if !errors.Is(err, mempool.ErrAlreadyKnown) {
				s.log.Debug("Relayed transaction refused", "hash", tx.Hash(), "err", err)
			}
		}
	}
}
