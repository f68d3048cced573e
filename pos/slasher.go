package pos

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/storage"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// The slasher records the signed block headers and finality votes a node
// receives, on any branch and whatever becomes of the block or vote
// (stored, refused for reverting the finalized checkpoint, waiting for an
// unknown parent, refused by the pool), as Prysm's slasher keeps proposal
// records and attestation spans (votes: spans.go). For headers it keeps,
// per slot and proposer, the first header seen. A second header of that proposer for that slot, with another seal
// hash, is a double proposal, and the two headers are its evidence. Before
// it, a block refused by fork choice was never looked at, so a validator
// that signed blocks on both sides of a partition that each finalized went
// unpunished when its votes could not reach the other side.
//
// The records are a LevelDB (the node's data directory's SlasherDir),
// bound to one chain's genesis, and bounded: a header is recorded only if
// its seal verifies as its coinbase's, that coinbase is (or was) a
// validator, and its slot is within EvidenceWindow epochs before the
// current slot and not after the next one, so there is at most one record
// per validator and slot of the window (and for votes, one vote and one
// span record per validator and epoch of the window); older records are
// deleted as the window moves.

// EvidenceWindow is how many epochs of proposals and votes the slasher
// keeps: a double proposal whose first header, or a double or surround
// vote whose first vote's target, is older than that is not found. It
// is many times any unbonding delay chaind runs with (2 epochs by default),
// so an offender found within it still has stake to lose.
const EvidenceWindow = 64

// SlasherDir is the slasher's database in a node's data directory.
const SlasherDir = "slasher"

var (
	slasherGenesisKey = []byte("genesis")
	// slasherFormatKey holds slasherFormat; absent in format 1, whose vote
	// records were vote transactions (votes were transactions then).
	slasherFormatKey  = []byte("format")
	slasherPropPrefix = []byte("p/") // p/ slot (8 bytes) proposer (20 bytes) -> header
)

// Slasher is a node's record of received proposals and votes. It is safe for
// concurrent use.
type Slasher struct {
	e    *Engine
	mu   sync.Mutex
	db   *leveldb.DB
	stor storage.Storage
	// pruned is the first slot whose records are kept.
	pruned uint64
}

// OpenSlasher opens (or creates) the slasher database in dir for e's chain;
// it fails if the database is another chain's, or another process has it.
func OpenSlasher(e *Engine, dir string) (*Slasher, error) {
	stor, err := storage.OpenFile(dir, false)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, fmt.Errorf("slasher %s: it is locked: a chaind node is using it (%w)", dir, err)
	} else if err != nil {
		return nil, fmt.Errorf("slasher %s: %w", dir, err)
	}
	s, err := openSlasher(e, stor)
	if err != nil {
		stor.Close()
		return nil, fmt.Errorf("slasher %s: %w", dir, err)
	}
	return s, nil
}

// OpenMemSlasher opens a slasher on memory storage, for tests and for
// simulations that run many nodes in one process.
func OpenMemSlasher(e *Engine) *Slasher {
	s, err := openSlasher(e, storage.NewMemStorage())
	if err != nil {
		panic(fmt.Sprintf("open memory database: %v", err)) // cannot fail on memory storage
	}
	return s
}

func openSlasher(e *Engine, stor storage.Storage) (*Slasher, error) {
	db, err := leveldb.Open(stor, protOptions)
	if err != nil {
		return nil, err
	}
	s := &Slasher{e: e, db: db, stor: stor}
	have, err := db.Get(slasherGenesisKey, nil)
	switch {
	case errors.Is(err, leveldb.ErrNotFound):
		err = db.Put(slasherGenesisKey, e.genesisHash[:], nil)
	case err == nil && !bytes.Equal(have, e.genesisHash[:]):
		err = fmt.Errorf("the database is for the chain with genesis %x, not %s", have, e.genesisHash.Hex())
	}
	if err == nil {
		err = s.upgrade()
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// slasherFormat is the version of the records: 2 records signed votes.
const slasherFormat = 2

// upgrade deletes the vote records of a format-1 database, which no longer
// decode (its span records and proposals stay valid), and marks it format 2.
func (s *Slasher) upgrade() error {
	if have, err := s.db.Get(slasherFormatKey, nil); err == nil && len(have) == 1 && have[0] == slasherFormat {
		return nil
	}
	b := new(leveldb.Batch)
	it := s.db.NewIterator(util.BytesPrefix(slasherVotePrefix), nil)
	for it.Next() {
		b.Delete(bytes.Clone(it.Key()))
	}
	it.Release()
	if err := it.Error(); err != nil {
		return err
	}
	b.Put(slasherFormatKey, []byte{slasherFormat})
	return s.db.Write(b, nil)
}

// Close closes the database and releases its directory.
func (s *Slasher) Close() error {
	return errors.Join(s.db.Close(), s.stor.Close())
}

func proposalKey(slot uint64, proposer common.Address) []byte {
	k := append(bytes.Clone(slasherPropPrefix), u64(slot)...)
	return append(k, proposer[:]...)
}

// ObserveHeader records h, a header the node received, and returns the
// evidence of a double proposal if a header recorded before is another
// block of h's proposer for h's slot; nil otherwise. A header outside the
// window, whose seal does not verify, or whose coinbase never was a
// validator of st (the node's head state) is not recorded. The error is a
// failure of the database.
func (s *Slasher) ObserveHeader(st StateReader, h *chain.Header) (*Evidence, error) {
	e := s.e
	now := e.SlotAt(e.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.prune(now); err != nil {
		return nil, err
	}
	if len(h.Seal) != sealSize || h.Nonce > now+1 || h.Nonce+EvidenceWindow*e.cfg.EpochLength < now || h.Time != e.g.Timestamp+h.Nonce*e.slotMs {
		return nil, nil
	}
	key := proposalKey(h.Nonce, h.Coinbase)
	prev, err := s.db.Get(key, nil)
	if err != nil && !errors.Is(err, leveldb.ErrNotFound) {
		return nil, fmt.Errorf("slasher: %w", err)
	}
	var first chain.Header
	if prev != nil {
		if err := first.UnmarshalBinary(prev); err != nil {
			return nil, fmt.Errorf("slasher: record of slot %d: %w", h.Nonce, err)
		}
		if first.SealHash() == h.SealHash() {
			return nil, nil // the same block, maybe signed again
		}
	}
	// The signature last: it is the costly check.
	if e.checkSignedHeader(h) != nil || !e.isValidator(st, h.Coinbase) {
		return nil, nil
	}
	enc, err := h.MarshalBinary()
	if err != nil {
		return nil, nil
	}
	if prev == nil {
		if err := s.db.Put(key, enc, nil); err != nil {
			return nil, fmt.Errorf("slasher: %w", err)
		}
		return nil, nil
	}
	return &Evidence{Kind: DoubleProposal, A: prev, B: enc}, nil
}

// prune deletes the records of slots (proposals) and epochs (votes and
// spans) that left the window before now.
func (s *Slasher) prune(now uint64) error {
	span := EvidenceWindow * s.e.cfg.EpochLength
	if now < span || now-span <= s.pruned {
		return nil
	}
	below := now - span
	b := new(leveldb.Batch)
	from, to := s.e.Epoch(s.pruned), s.lowEpoch(now)
	for _, r := range []*util.Range{
		{Start: proposalKey(s.pruned, common.Address{}), Limit: proposalKey(below, common.Address{})},
		{Start: epochKey(slasherVotePrefix, from, common.Address{}), Limit: epochKey(slasherVotePrefix, to, common.Address{})},
		{Start: epochKey(slasherSpanPrefix, from, common.Address{}), Limit: epochKey(slasherSpanPrefix, to, common.Address{})},
	} {
		it := s.db.NewIterator(r, nil)
		for it.Next() {
			b.Delete(bytes.Clone(it.Key()))
		}
		it.Release()
		if err := it.Error(); err != nil {
			return fmt.Errorf("slasher: %w", err)
		}
	}
	if err := s.db.Write(b, nil); err != nil {
		return fmt.Errorf("slasher: %w", err)
	}
	s.pruned = below
	return nil
}

// Records is how many proposals, votes and span records the slasher holds.
func (s *Slasher) Records() (proposals, votes, spans int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	count := func(prefix []byte) int {
		it := s.db.NewIterator(util.BytesPrefix(prefix), nil)
		defer it.Release()
		n := 0
		for it.Next() {
			n++
		}
		return n
	}
	return count(slasherPropPrefix), count(slasherVotePrefix), count(slasherSpanPrefix)
}
