package chain

import (
	"bytes"
	"fmt"
	"log/slog"
	"sync"

	"github.com/chaind/chaind/clock"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"
)

// SharedBlobs holds, once for many stores in one process, the values those
// stores hold under a key that names its own content: headers, bodies and
// consensus bodies (keyed by the block hash) and state trie nodes (keyed by
// the node's hash). A simulator's thousands of nodes each import the same
// blocks and mostly compute the same state nodes, and each stores them once
// here. A node's database keeps each block's keys with empty values, so
// which blocks it holds is unchanged (a block another node imported stays
// unknown to it); it keeps no key for a state node, which it reads from
// here by hash, checked against the hash, as go-ethereum's hash-based trie
// database lets many state roots share one set of nodes. Values are never
// removed (the chain deletes none of these keys). It is safe for
// concurrent use.
type SharedBlobs struct {
	mu sync.RWMutex
	m  map[string][]byte
}

// NewSharedBlobs returns an empty SharedBlobs.
func NewSharedBlobs() *SharedBlobs { return &SharedBlobs{m: map[string][]byte{}} }

// contentAddressed reports whether k's value is determined by k: it names a
// header, a body or a consensus body by block hash, or a trie node by its hash.
func contentAddressed(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	switch k[0] {
	case prefixHeader[0], prefixBody[0], prefixConsensus[0], prefixTrieNode[0]:
		return len(k) == 1+32
	}
	return false
}

// get returns the shared value of k.
func (sb *SharedBlobs) get(k []byte) ([]byte, error) {
	sb.mu.RLock()
	v, ok := sb.m[string(k)]
	sb.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("shared value of key %x is missing: %w", k, ErrNotFound)
	}
	return v, nil
}

// Len is the number of values held.
func (sb *SharedBlobs) Len() int {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	return len(sb.m)
}

// Put implements leveldb.BatchReplay for split: a content-addressed value
// goes to the shared map (the first copy stays), its key to the local batch
// with an empty value; any other write goes to the local batch as it is.
func (s *splitBatch) Put(k, v []byte) {
	if !contentAddressed(k) || len(v) == 0 {
		s.local.Put(k, v)
		return
	}
	s.shared.mu.Lock()
	if _, ok := s.shared.m[string(k)]; !ok {
		s.shared.m[string(k)] = bytes.Clone(v)
	}
	s.shared.mu.Unlock()
	if k[0] != prefixTrieNode[0] {
		s.local.Put(k, nil)
	}
}

// Delete implements leveldb.BatchReplay.
func (s *splitBatch) Delete(k []byte) { s.local.Delete(k) }

// splitBatch divides one batch between a store's database and its SharedBlobs.
type splitBatch struct {
	shared *SharedBlobs
	local  *leveldb.Batch
}

// split moves b's content-addressed values into sb and returns the batch
// that the store's own database writes.
func (sb *SharedBlobs) split(b *leveldb.Batch) (*leveldb.Batch, error) {
	s := &splitBatch{shared: sb, local: new(leveldb.Batch)}
	if err := b.Replay(s); err != nil {
		return nil, fmt.Errorf("split batch: %w", err)
	}
	return s.local, nil
}

// Buffers of a store on SharedBlobs: LevelDB allocates the write buffer
// whole for every database, and its log on memory storage grows to the
// write buffer's size before the buffer is written out as a table, so a
// simulated node's fixed cost is about twice the write buffer. A compaction
// allocates a buffer of the table size at once; the simulated nodes write
// the same keys block by block, so they all compact at the same block, and
// LevelDB's 2 MiB tables took 1.4 MB a node in one burst.
const (
	simWriteBuffer = 32 << 10
	simBlockCache  = 32 << 10
	simTableSize   = 64 << 10
)

// OpenSimStore opens a LevelDB on in-memory storage, with small buffers, whose
// content-addressed values live in shared: for simulations that run
// thousands of nodes in one process. Reads and writes behave as on a store
// of its own.
func OpenSimStore(shared *SharedBlobs) *Store {
	stor := storage.NewMemStorage()
	db, err := leveldb.Open(stor, &opt.Options{WriteBuffer: simWriteBuffer, BlockCacheCapacity: simBlockCache, CompactionTableSize: simTableSize, Filter: keyFilter})
	if err != nil {
		panic(fmt.Sprintf("open memory database: %v", err)) // cannot fail on memory storage
	}
	return &Store{db: db, stor: stor, clock: clock.Real, log: slog.Default(), opts: StoreOptions{FreeSpace: unknownFreeSpace}, shared: shared}
}
