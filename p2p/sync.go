package p2p

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
)

// Sync tuning.
const (
	headersPerRequest = maxHeaders
	blocksPerRequest  = 64
	parallelFetches   = 4
	progressInterval  = 2 * time.Second
	recheckInterval   = 5 * time.Second // in case an announcement was missed
)

// SyncStatus is what eth_syncing reports while a sync runs.
type SyncStatus struct {
	StartingBlock uint64
	CurrentBlock  uint64
	HighestBlock  uint64
}

// syncer brings the chain up to the heaviest peer: headers first from a
// block locator, their weight checked before any body is fetched, then bodies
// from several peers in parallel, imported in order through chain.
type syncer struct {
	s    *Server
	wake chan struct{}

	mu     sync.Mutex
	status *SyncStatus
}

func newSyncer(s *Server) *syncer { return &syncer{s: s, wake: make(chan struct{}, 1)} }

func (y *syncer) trigger() {
	select {
	case y.wake <- struct{}{}:
	default:
	}
}

// Status returns the progress of a running sync, or false when idle.
func (s *Server) SyncStatus() (SyncStatus, bool) {
	s.syncer.mu.Lock()
	defer s.syncer.mu.Unlock()
	if s.syncer.status == nil {
		return SyncStatus{}, false
	}
	return *s.syncer.status, true
}

// loop syncs whenever woken (a new peer, a block with an unknown parent) and
// every recheckInterval. In one round each peer is tried at most once, the
// heaviest claim first, so a peer whose claim fails cannot hold sync: the
// next is tried.
func (y *syncer) loop() {
	t := y.s.clock.NewTicker(recheckInterval)
	defer t.Stop()
	for {
		select {
		case <-y.s.ctx.Done():
			return
		case <-y.wake:
		case <-t.C():
		}
		tried := make(map[*Peer]bool)
		for y.s.ctx.Err() == nil {
			p := y.bestPeer(tried)
			if p == nil {
				break
			}
			tried[p] = true
			if err := y.syncWith(p); err != nil {
				y.s.log.Info("Sync with peer stopped", "id", short(p.id), "err", err)
			}
		}
		y.setStatus(nil)
	}
}

// bestPeer is the untried peer with the heaviest branch that we may lack
// (see ahead): heavier than ours first, and lighter ones too, since an
// engine's fork choice (proof of stake's LMD-GHOST) may prefer a lighter
// branch for the votes it carries, and can only if the node has it.
func (y *syncer) bestPeer(tried map[*Peer]bool) *Peer {
	var best *Peer
	var bestWeight *big.Int
	for _, p := range y.s.peerList() {
		if tried[p] || p.ctx.Err() != nil {
			continue
		}
		if _, _, w := p.Head(); y.ahead(p) && (bestWeight == nil || w.Cmp(bestWeight) > 0) {
			best, bestWeight = p, w
		}
	}
	return best
}

// ahead reports whether p's head is a block we do not have, or one we have
// with less weight than p claims (a claim its headers must back).
func (y *syncer) ahead(p *Peer) bool {
	head, _, w := p.Head()
	stored, err := y.s.chain.Weight(head)
	return err != nil || w.Cmp(stored) > 0
}

// update changes the running sync's status.
func (y *syncer) update(fn func(*SyncStatus)) {
	y.mu.Lock()
	defer y.mu.Unlock()
	if y.status != nil {
		fn(y.status)
	}
}

func (y *syncer) setStatus(st *SyncStatus) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.status = st
}

// syncWith downloads p's heavier branch; it returns nil once we are level
// with p (or ahead of it).
func (y *syncer) syncWith(p *Peer) error {
	s := y.s
	ctx := p.ctx
	start := s.chain.Head().Height()
	_, target, peerWeight := p.Head()
	y.setStatus(&SyncStatus{StartingBlock: start, CurrentBlock: start, HighestBlock: target})
	began, lastLog, imported := s.clock.Now(), time.Time{}, 0
	logged := false
	for {
		id := p.nextID.Add(1)
		resp, err := p.request(ctx, &GetHeaders{ID: id, Locator: s.chain.Locator(), Max: headersPerRequest}, id, true)
		if err != nil {
			if errors.Is(err, errReqTimeout) || errors.Is(err, errNotReading) {
				s.misbehaved(p, "sync: "+err.Error())
			}
			return err
		}
		headers, err := decodeHeaders(resp.(*Headers).Headers)
		if err != nil {
			s.misbehaved(p, err.Error())
			return err
		}
		full := len(headers) == headersPerRequest
		for len(headers) > 0 && s.chain.GetHeader(headers[0].Hash()) != nil {
			headers = headers[1:] // already have these
		}
		if len(headers) == 0 {
			if full {
				return errors.New("peer keeps sending headers we have")
			}
			if y.ahead(p) && peerWeight.Cmp(s.chain.HeadWeight()) > 0 {
				s.misbehaved(p, fmt.Sprintf("claimed a weight of %d bits but served no headers beyond ours", peerWeight.BitLen()))
				return errors.New("weight claim not backed by headers")
			}
			break
		}
		s.seenHeaders(headers...)
		weight, err := s.chain.VerifyHeaders(headers)
		if err != nil {
			if isPeerFault(err) {
				s.misbehaved(p, fmt.Sprintf("invalid headers: %v", err))
			}
			return err
		}
		if !full && weight.Cmp(s.chain.HeadWeight()) <= 0 && peerWeight.Cmp(s.chain.HeadWeight()) > 0 {
			s.misbehaved(p, "claimed a heavier chain than its headers show")
			return errors.New("weight claim not backed by headers")
		}
		y.update(func(st *SyncStatus) { st.HighestBlock = max(st.HighestBlock, headers[len(headers)-1].Height) })
		n, err := y.fetchAndImport(ctx, p, headers)
		imported += n
		if err != nil {
			return err
		}
		if now := s.clock.Now(); now.Sub(lastLog) >= progressInterval {
			rate := float64(imported) / now.Sub(began).Seconds()
			st, _ := s.SyncStatus()
			s.log.Info("Syncing", "height", st.CurrentBlock, "target", st.HighestBlock, "blocks_per_sec", fmt.Sprintf("%.0f", rate), "peer", p.id)
			lastLog, logged = now, true
		}
	}
	if imported > 0 && (logged || imported >= 100) {
		s.log.Info("Sync done", "height", s.chain.Head().Height(), "blocks", imported, "seconds", fmt.Sprintf("%.1f", s.clock.Now().Sub(began).Seconds()))
	}
	return nil
}

func decodeHeaders(encs [][]byte) ([]*chain.Header, error) {
	out := make([]*chain.Header, len(encs))
	for i, enc := range encs {
		out[i] = new(chain.Header)
		if err := out[i].UnmarshalBinary(enc); err != nil {
			return nil, fmt.Errorf("undecodable header: %w", err)
		}
	}
	return out, nil
}

// fetchAndImport gets the bodies of headers (already verified) from p and the
// other peers that are at least as heavy, parallelFetches requests at a time,
// and imports them in order.
func (y *syncer) fetchAndImport(ctx context.Context, p *Peer, headers []*chain.Header) (int, error) {
	s := y.s
	helpers := []*Peer{p}
	_, _, pw := p.Head()
	for _, q := range s.peerList() {
		if _, _, w := q.Head(); q != p && w.Cmp(pw) >= 0 {
			helpers = append(helpers, q)
		}
	}
	type chunk struct {
		hashes []common.Hash
		from   *Peer
		blocks []*chain.Block
		err    error
		done   chan struct{}
	}
	var chunks []*chunk
	for i := 0; i < len(headers); i += blocksPerRequest {
		c := &chunk{done: make(chan struct{})}
		for _, h := range headers[i:min(i+blocksPerRequest, len(headers))] {
			c.hashes = append(c.hashes, h.Hash())
		}
		chunks = append(chunks, c)
	}
	sem := make(chan struct{}, parallelFetches)
	s.spawn(func() {
		for i, c := range chunks {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				c.err = ctx.Err()
				close(c.done)
				continue
			}
			s.spawn(func() {
				defer func() { <-sem; close(c.done) }()
				c.from = helpers[i%len(helpers)]
				c.blocks, c.err = s.fetchBlocks(ctx, c.from, c.hashes, true)
				if (c.err != nil || len(c.blocks) != len(c.hashes)) && c.from != p {
					c.from = p // the sync peer must have them
					c.blocks, c.err = s.fetchBlocks(ctx, p, c.hashes, true)
				}
				if errors.Is(c.err, errReqTimeout) {
					s.misbehaved(c.from, "sync: "+c.err.Error())
				}
				if c.err == nil && len(c.blocks) != len(c.hashes) {
					s.misbehaved(c.from, fmt.Sprintf("sent %d of %d blocks of headers it served", len(c.blocks), len(c.hashes)))
					c.err = fmt.Errorf("peer %s sent %d of %d blocks", short(c.from.id), len(c.blocks), len(c.hashes))
				}
			})
		}
	})
	imported := 0
	for _, c := range chunks {
		select {
		case <-c.done:
		case <-ctx.Done():
			return imported, ctx.Err()
		}
		if c.err != nil {
			return imported, c.err
		}
		for i, b := range c.blocks {
			if b.Hash() != c.hashes[i] {
				s.misbehaved(c.from, "blocks out of order")
				return imported, errors.New("blocks out of order")
			}
			if !s.importBlock(c.from, b) {
				return imported, fmt.Errorf("block %d (%x) not imported", b.Height(), b.Hash())
			}
			imported++
			y.update(func(st *SyncStatus) { st.CurrentBlock = b.Height() })
		}
	}
	return imported, nil
}
