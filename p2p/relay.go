package p2p

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/mempool"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// maxResponseBytes keeps a response of blocks well under MaxFrameSize.
const maxResponseBytes = MaxFrameSize / 2

// Announcement budgets: blocks fetched after announcements, in all and per
// peer; announcements beyond them are dropped (a heavier branch still
// arrives by sync), and the same hash is fetched from one peer at a time.
const (
	maxInflight         = 256
	maxAnnouncedPerPeer = 16
)

// isPeerFault reports whether err means the data was invalid (the sender's
// fault) rather than our own failure or a block that may become valid.
func isPeerFault(err error) bool {
	return errors.Is(err, chain.ErrUnknownParent) || (chain.IsRuleError(err) && !errors.Is(err, chain.ErrFutureBlock))
}

// encodeBlocks returns the blocks we have among hashes, within the size budget.
func (s *Server) encodeBlocks(hashes []common.Hash) [][]byte {
	var out [][]byte
	size := 0
	seen := make(map[common.Hash]bool, len(hashes))
	for _, h := range hashes {
		if seen[h] {
			continue // a block is sent once per request
		}
		seen[h] = true
		b, err := s.chain.BlockByHash(h)
		if err != nil {
			continue
		}
		enc, err := b.MarshalBinary()
		if err != nil || (len(out) > 0 && size+len(enc) > maxResponseBytes) {
			break
		}
		size += len(enc)
		out = append(out, enc)
	}
	return out
}

// fetchBlocks asks p for blocks and decodes them; a block that does not
// decode or was not asked for is p's fault.
func (s *Server) fetchBlocks(ctx context.Context, p *Peer, hashes []common.Hash, wait bool) ([]*chain.Block, error) {
	id := p.nextID.Add(1)
	resp, err := p.request(ctx, &GetBlocks{ID: id, Hashes: hashes}, id, wait)
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

// fetchAnnounced gets an announced block from p and imports it, within the
// announcement budgets. A peer that does not serve what it announced is
// scored down.
func (s *Server) fetchAnnounced(p *Peer, hash common.Hash) {
	s.mu.Lock()
	if s.inflight[hash] || len(s.inflight) >= maxInflight {
		s.mu.Unlock()
		return
	}
	if p.announced.Add(1) > maxAnnouncedPerPeer {
		p.announced.Add(-1)
		s.mu.Unlock()
		return
	}
	s.inflight[hash] = true
	s.mu.Unlock()
	s.spawn(func() {
		defer func() {
			s.mu.Lock()
			delete(s.inflight, hash)
			s.mu.Unlock()
			p.announced.Add(-1)
		}()
		blocks, err := s.fetchBlocks(p.ctx, p, []common.Hash{hash}, false)
		switch {
		case errors.Is(err, errReqTimeout):
			s.penalise(p, scoreUnserved, fmt.Sprintf("announced block %x not served in time", hash))
		case err == nil && len(blocks) == 0:
			s.penalise(p, scoreUnserved, fmt.Sprintf("announced block %x it does not serve", hash))
		case err == nil:
			s.importBlock(p, blocks[0])
		}
	})
}

// seenHeaders shows headers to Config.SeenHeader.
func (s *Server) seenHeaders(headers ...*chain.Header) {
	if s.cfg.SeenHeader == nil {
		return
	}
	for _, h := range headers {
		s.cfg.SeenHeader(h)
	}
}

// importBlock inserts a block from p, cheapest checks first: a block whose
// parent we lack starts a sync and costs no signature recovery (but its
// header and, if its bodies match it, the block are shown to SeenHeader
// and SeenBlock); a wrong transaction or consensus root or an invalid
// header costs p its connection before any signature is recovered. It returns false when the block was not imported.
func (s *Server) importBlock(p *Peer, b *chain.Block) bool {
	p.knownBlocks.add(b.Hash())
	s.seenHeaders(b.Header)
	root, bodyRoot := chain.TxRoot(b.Txs), chain.ConsensusBodyRoot(b.Consensus)
	if root == b.Header.TxRoot && bodyRoot == b.Header.ConsensusRoot && s.cfg.SeenBlock != nil {
		s.cfg.SeenBlock(b)
	}
	if s.chain.GetHeader(b.Header.ParentHash) == nil {
		s.syncer.trigger()
		return false
	}
	if root != b.Header.TxRoot {
		s.misbehaved(p, fmt.Sprintf("invalid block %d (%x): %v: body %x, header %x", b.Height(), b.Hash(), chain.ErrBadTxRoot, root, b.Header.TxRoot))
		return false
	}
	if bodyRoot != b.Header.ConsensusRoot {
		s.misbehaved(p, fmt.Sprintf("invalid block %d (%x): %v: body %x, header %x", b.Height(), b.Hash(), chain.ErrBadConsensusRoot, bodyRoot, b.Header.ConsensusRoot))
		return false
	}
	if _, err := s.chain.VerifyHeaders([]*chain.Header{b.Header}); err != nil {
		if isPeerFault(err) {
			s.misbehaved(p, fmt.Sprintf("invalid block %d (%x): %v", b.Height(), b.Hash(), err))
		} else {
			s.log.Info("Block not imported", "height", b.Height(), "hash", b.Hash(), "err", err)
		}
		return false
	}
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
		p.lastBlock.Store(s.clock.Now().UnixNano()) // a useful peer (evict.go)
		s.announce(b, p)
		return true
	case errors.Is(err, chain.ErrKnownBlock):
		return true
	case errors.Is(err, chain.ErrUnknownParent):
		s.syncer.trigger()
		return false
	case isPeerFault(err):
		s.misbehaved(p, fmt.Sprintf("invalid block %d (%x): %v", b.Height(), b.Hash(), err))
		return false
	default: // our failure (disk, internal): the peer keeps its standing
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
	push, err := EncodeMsg(&PushBlock{Block: enc, Weight: weight}) // once for every peer
	if err != nil {
		s.log.Error("Cannot encode block", "hash", b.Hash(), "err", err)
		return
	}
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
			p.sendFrame(push)
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

func (s *Server) onPoolTxs(txs []*types.Transaction) {
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
	t := s.clock.NewTicker(txBroadcastInterval)
	defer t.Stop()
	var batch []common.Hash
	for {
		select {
		case <-s.ctx.Done():
			return
		case h := <-s.txQueue:
			batch = append(batch, h)
			if len(batch) < maxHashes {
				continue
			}
		case <-t.C():
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

// maxTxFetches bounds the transaction fetches from one peer, waiting or in
// flight (each for at most maxHashes hashes); announcements beyond it are
// dropped.
const maxTxFetches = 32

// fetchTxs gets announced transactions from p in the background, within
// p's budgets.
func (s *Server) fetchTxs(p *Peer, hashes []common.Hash) {
	if p.txFetches.Add(1) > maxTxFetches {
		p.txFetches.Add(-1)
		return
	}
	s.spawn(func() {
		defer p.txFetches.Add(-1)
		id := p.nextID.Add(1)
		resp, err := p.request(p.ctx, &GetTxs{ID: id, Hashes: hashes}, id, true)
		if err == nil {
			s.addTxs(p, resp.(*Txs).Txs)
		}
	})
}

// addTxs admits transactions from p; one that no honest node relays costs p
// its connection.
func (s *Server) addTxs(p *Peer, txs [][]byte) {
	for _, enc := range txs {
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(enc); err != nil {
			s.misbehaved(p, "undecodable transaction: "+err.Error())
			return
		}
		p.knownTxs.add(tx.Hash())
		if err := s.pool.Add(tx); err == nil {
			p.lastTx.Store(s.clock.Now().UnixNano()) // a useful peer (evict.go)
		} else {
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
