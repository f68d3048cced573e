package chain

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// The account-history index answers "addr's account after block h" with one
// LevelDB seek, whatever h. For every canonical block and every account it
// changes there is one entry
//
//	y + address + height -> the account before that block (RLP journalEntry)
//
// so the account after block h is the "before" value of the first change
// above h, or the current account if it has not changed since. Entries are
// written and deleted with the canonical entries, in the same batch, and
// read from one LevelDB snapshot, so a read never takes the chain's lock and
// never sees half an import.
var (
	prefixHistory = []byte("y")
	keyHistoryV1  = []byte("history-v1") // set once the index covers the whole chain
)

func historyKey(addr common.Address, height uint64) []byte {
	return key(prefixHistory, addr[:], heightKey(height))
}

func (b *storeBatch) putHistory(height uint64, u undoRecord) error {
	for _, e := range u.Entries {
		enc, err := rlp.EncodeToBytes(e)
		if err != nil {
			return fmt.Errorf("encode history of %s: %w", e.Addr.Hex(), err)
		}
		b.b.Put(historyKey(e.Addr, height), enc)
	}
	return nil
}

func (b *storeBatch) deleteHistory(height uint64, u undoRecord) {
	for _, e := range u.Entries {
		b.b.Delete(historyKey(e.Addr, height))
	}
}

// AccountAt reads addr's account after the canonical block at height, from
// one snapshot of the database, in one seek.
func (s *Store) AccountAt(addr common.Address, height uint64) (Account, error) {
	s.mu.RLock()
	snap, err := s.db.GetSnapshot()
	s.mu.RUnlock()
	if err != nil {
		return Account{}, fmt.Errorf("snapshot: %w", err)
	}
	defer snap.Release()
	if _, err := snapGet(snap, key(prefixCanonical, heightKey(height))); err != nil {
		return Account{}, fmt.Errorf("block %d: %w", height, err) // above the head
	}
	it := snap.NewIterator(&util.Range{Start: historyKey(addr, height+1), Limit: historyKey(addr, math.MaxUint64)}, nil)
	defer it.Release()
	if it.First() {
		var e journalEntry
		if err := rlp.DecodeBytes(it.Value(), &e); err != nil {
			return Account{}, fmt.Errorf("history of %s at %x: %w", addr.Hex(), it.Key(), err)
		}
		if !e.Existed {
			return Account{Balance: new(big.Int)}, nil
		}
		return e.Prev, nil
	}
	if err := it.Error(); err != nil {
		return Account{}, fmt.Errorf("history of %s: %w", addr.Hex(), err)
	}
	data, err := snapGet(snap, key(prefixAccount, addr[:]))
	if errors.Is(err, ErrNotFound) {
		return Account{Balance: new(big.Int)}, nil
	} else if err != nil {
		return Account{}, err
	}
	var a Account
	if err := rlp.DecodeBytes(data, &a); err != nil {
		return Account{}, fmt.Errorf("account %s: %w", addr.Hex(), err)
	}
	return a, nil
}

func snapGet(snap *leveldb.Snapshot, k []byte) ([]byte, error) {
	v, err := snap.Get(k, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, ErrNotFound
	}
	return v, err
}

// buildHistory indexes a chain stored before the index existed, from its
// undo records, once.
func (s *Store) buildHistory(head common.Hash) error {
	if _, err := s.get(keyHistoryV1); err == nil {
		return nil
	}
	h, err := s.Header(head)
	if err != nil {
		return err
	}
	s.log.Info("Indexing account history (once)", "blocks", h.Height)
	b := newBatch()
	for height := uint64(1); height <= h.Height; height++ {
		hash, err := s.CanonicalHash(height)
		if err != nil {
			return fmt.Errorf("index history: block %d: %w", height, err)
		}
		u, err := s.undo(hash)
		if err != nil {
			return fmt.Errorf("index history: block %d: %w", height, err)
		}
		if err := b.putHistory(height, u); err != nil {
			return err
		}
		if b.b.Len() > 10_000 {
			if err := s.db.Write(b.b, nil); err != nil {
				return fmt.Errorf("index history: %w", err)
			}
			b = newBatch()
		}
	}
	b.b.Put(keyHistoryV1, nil)
	return s.db.Write(b.b, &opt.WriteOptions{Sync: true})
}
