package chain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"syscall"

	"github.com/VictoriaMetrics/fastcache"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/syndtr/goleveldb/leveldb"
	lerrors "github.com/syndtr/goleveldb/leveldb/errors"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// ErrNotFound is returned by Store reads of absent keys.
var ErrNotFound = errors.New("not found")

// Key layout. Every block import or reorg is written as one batch.
var (
	prefixHeader    = []byte("h") // h + hash -> header bytes
	prefixBody      = []byte("b") // b + hash -> RLP transactions
	prefixConsensus = []byte("k") // k + hash -> consensus body, when not empty
	prefixProof     = []byte("f") // f + hash -> the block's proof as this node has it, when not empty
	prefixWeight    = []byte("w") // w + hash -> total weight of the branch up to it
	prefixCanonical = []byte("c") // c + height -> hash on the canonical chain
	prefixByHeight  = []byte("n") // n + height + hash -> nothing: every stored block
	prefixTxLookup  = []byte("x") // x + tx hash -> block hash + index (canonical txs)
	prefixUndo      = []byte("u") // u + hash -> undo record of a canonical block
	keyHead         = []byte("head")
	keyGenesis      = []byte("genesis")      // genesis file JSON
	keyBlockFormat  = []byte("block-format") // blockFormat, one byte; absent in format 1
	keyStateFormat  = []byte("state-format") // stateFormat, one byte; absent in format 1
)

// blockFormat is the version of the header and block encoding the store
// holds. Format 1 was a fixed binary header hashed with SHA-256d; format 2 is
// the RLP of the Ethereum header, hashed with keccak256.
const blockFormat = 2

// stateFormat is the version of the state's storage. Format 1 kept every
// account and engine record in a flat table under a 12-bit-bucket tree;
// format 2 keeps them in a Merkle-Patricia trie (see State), with another
// state root.
const stateFormat = 2

// checkFormats refuses a store written in another block or state format:
// its hashes, encodings and state would be misread.
func (s *Store) checkFormats() error {
	if err := s.checkFormat(keyBlockFormat, "blocks", blockFormat, "block hashes changed"); err != nil {
		return err
	}
	return s.checkFormat(keyStateFormat, "its state", stateFormat, "accounts moved into a Merkle-Patricia trie and state roots changed")
}

// checkFormat checks one format marker (absent: format 1).
func (s *Store) checkFormat(k []byte, what string, want int, change string) error {
	v, err := s.get(k)
	format := 1
	switch {
	case err == nil && len(v) == 1:
		format = int(v[0])
	case err == nil:
		return fmt.Errorf("unreadable %s marker %x", k, v)
	case !errors.Is(err, ErrNotFound):
		return err
	}
	if format != want {
		return fmt.Errorf("the database holds %s in format %d, this chaind reads format %d (%s); start with a new data directory", what, format, want, change)
	}
	return nil
}

// Store is chaind's LevelDB database. Reads return ErrNotFound for absent keys;
// writes go through a storeBatch committed with one synced write, after which
// the head marker (see headMarker) records the new head. A write that fails
// (a full disk) puts the store in a failed state in which reads go on, writes
// are refused at once with ErrStorageUnavailable, and a retry with backoff
// brings it back by itself (see health.go).
type Store struct {
	mu sync.RWMutex // readers hold it shared; a reopen after a failed write holds it alone
	db *leveldb.DB

	dir    string
	stor   storage.Storage // what db runs on; kept open across reopens
	marker *headMarker     // nil in memory
	opts   StoreOptions
	clock  clock.Clock
	log    *slog.Logger
	health health

	nodeCache *fastcache.Cache // state nodes read and checked; nil in memory
	shared    *SharedBlobs     // content-addressed values, when not held here (OpenSimStore)
}

// StoreOptions are the optional settings of OpenStoreWith.
type StoreOptions struct {
	// WrapStorage, if set, wraps the files LevelDB runs on (tests inject a
	// storage layer that fails like a full disk).
	WrapStorage func(storage.Storage) storage.Storage
	// FreeSpace reports the bytes free for the database; optional: the file
	// system's figure (statfs) where the platform has one.
	FreeSpace func() (uint64, error)
	// MinFree is the free space below which writes stop before the disk is
	// full; optional: DefaultMinFree.
	MinFree uint64
	Clock   clock.Clock  // optional: clock.Real; paces write retries
	Logger  *slog.Logger // optional: slog.Default()

	// trustOlder skips the start-up checks (used by Repair).
	trustOlder bool
}

// DefaultMinFree is the free disk space below which the store stops writing.
const DefaultMinFree = 32 << 20

var dbOptions = &opt.Options{
	BlockCacheCapacity: 8 << 20,
	WriteBuffer:        4 << 20,
	Filter:             keyFilter,
}

// keyFilter is a bloom filter in each table file (10 bits a key, about 1%
// false positives), so that a read of a key the database does not hold
// (every imported block's is-it-known check) skips the tables instead of
// reading and decompressing a block of each level. Tables written without
// it are read as before, so it needs no new database format.
var keyFilter = filter.NewBloomFilter(10)

// OpenStore opens (or creates) the database in dir with default options.
func OpenStore(dir string) (*Store, error) { return OpenStoreWith(dir, StoreOptions{}) }

// OpenStoreWith opens (or creates) the database in dir. It refuses a
// database older than the head it last acknowledged (ErrRolledBack) and one
// whose newest blocks or table files are damaged (ErrDamaged).
func OpenStoreWith(dir string, o StoreOptions) (*Store, error) {
	stor, err := storage.OpenFile(dir, false) // takes the directory's lock
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, fmt.Errorf("open database %s: it is locked: a chaind node is running on this data directory; stop it first (%w)", dir, err)
	} else if err != nil {
		return nil, fmt.Errorf("open database %s: %w", dir, err)
	}
	if o.WrapStorage != nil {
		stor = o.WrapStorage(stor)
	}
	if !o.trustOlder {
		if err := checkNewestTables(stor); err != nil {
			stor.Close()
			return nil, fmt.Errorf("open database %s: %w", dir, err)
		}
	}
	db, err := leveldb.Open(stor, dbOptions)
	if err != nil {
		stor.Close()
		if lerrors.IsCorrupted(err) {
			return nil, fmt.Errorf("open database %s: it is corrupted (%w); move it aside and resync", dir, err)
		}
		return nil, fmt.Errorf("open database %s: %w", dir, err)
	}
	if o.FreeSpace == nil {
		o.FreeSpace = func() (uint64, error) { return freeSpace(dir) }
	}
	if o.MinFree == 0 {
		o.MinFree = DefaultMinFree
	}
	s := &Store{db: db, dir: dir, stor: stor, opts: o, clock: clock.OrReal(o.Clock), log: o.Logger, nodeCache: fastcache.New(nodeCacheSize)}
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := s.openChecks(); err != nil {
		s.Close()
		return nil, fmt.Errorf("open database %s: %w", dir, err)
	}
	return s, nil
}

// OpenMemStore opens a LevelDB on in-memory storage, for unit tests and for
// simulations that run many nodes in one process (hence the small write
// buffer: LevelDB allocates it whole for every database).
func OpenMemStore() *Store {
	stor := storage.NewMemStorage()
	db, err := leveldb.Open(stor, &opt.Options{WriteBuffer: 256 << 10, BlockCacheCapacity: 256 << 10, Filter: keyFilter})
	if err != nil {
		panic(fmt.Sprintf("open memory database: %v", err)) // cannot fail on memory storage
	}
	return &Store{db: db, stor: stor, clock: clock.Real, log: slog.Default(), opts: StoreOptions{FreeSpace: unknownFreeSpace}}
}

// Close stops write retries and closes the database.
func (s *Store) Close() error {
	s.health.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := []error{s.db.Close()}
	if s.nodeCache != nil {
		s.nodeCache.Reset()
	}
	if s.marker != nil {
		errs = append(errs, s.marker.close())
	}
	if s.stor != nil {
		errs = append(errs, s.stor.Close())
	}
	return errors.Join(errs...)
}

func (s *Store) get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, err := s.db.Get(key, nil)
	if s.shared != nil && contentAddressed(key) && (err == nil && len(v) == 0 || errors.Is(err, leveldb.ErrNotFound) && key[0] == prefixTrieNode[0]) {
		return s.shared.get(key)
	}
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, ErrNotFound
	}
	return v, err
}

func key(prefix []byte, parts ...[]byte) []byte {
	k := append([]byte(nil), prefix...)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func heightKey(h uint64) []byte { return binary.BigEndian.AppendUint64(nil, h) }

// Header reads a header by hash.
func (s *Store) Header(hash common.Hash) (*Header, error) {
	data, err := s.get(key(prefixHeader, hash[:]))
	if err != nil {
		return nil, err
	}
	h := new(Header)
	if err := h.UnmarshalBinary(data); err != nil {
		return nil, fmt.Errorf("header %x: %w", hash, err)
	}
	return h, nil
}

// Txs reads a block body by hash.
func (s *Store) Txs(hash common.Hash) ([]*types.Transaction, error) {
	data, err := s.get(key(prefixBody, hash[:]))
	if err != nil {
		return nil, err
	}
	txs, err := decodeTxs(data)
	if err != nil {
		return nil, fmt.Errorf("body %x: %w", hash, err)
	}
	return txs, nil
}

// Consensus reads a block's consensus body by hash: nil when it has none.
func (s *Store) Consensus(hash common.Hash) ([]byte, error) {
	data, err := s.get(key(prefixConsensus, hash[:]))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return data, err
}

// Proof reads a block's proof by hash: nil when it has none.
func (s *Store) Proof(hash common.Hash) ([]byte, error) {
	data, err := s.get(key(prefixProof, hash[:]))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return data, err
}

// Weight reads the total weight of the branch ending at hash.
func (s *Store) Weight(hash common.Hash) (*big.Int, error) {
	data, err := s.get(key(prefixWeight, hash[:]))
	if err != nil {
		return nil, err
	}
	return new(big.Int).SetBytes(data), nil
}

// CanonicalHash reads the canonical block hash at height.
func (s *Store) CanonicalHash(height uint64) (common.Hash, error) {
	data, err := s.get(key(prefixCanonical, heightKey(height)))
	if err != nil {
		return common.Hash{}, err
	}
	return common.BytesToHash(data), nil
}

// HashesAt lists every stored block at height, canonical or not.
func (s *Store) HashesAt(height uint64) ([]common.Hash, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	it := s.db.NewIterator(util.BytesPrefix(key(prefixByHeight, heightKey(height))), nil)
	defer it.Release()
	var out []common.Hash
	for it.Next() {
		out = append(out, common.BytesToHash(it.Key()[len(prefixByHeight)+8:]))
	}
	return out, it.Error()
}

// TxLookup reads where a canonical transaction is: block hash and index.
func (s *Store) TxLookup(txHash common.Hash) (common.Hash, uint32, error) {
	data, err := s.get(key(prefixTxLookup, txHash[:]))
	if err != nil {
		return common.Hash{}, 0, err
	}
	if len(data) != 36 {
		return common.Hash{}, 0, fmt.Errorf("tx lookup %x: %d bytes", txHash, len(data))
	}
	return common.BytesToHash(data[:32]), binary.BigEndian.Uint32(data[32:]), nil
}

func (s *Store) undo(hash common.Hash) (undoRecord, error) {
	data, err := s.get(key(prefixUndo, hash[:]))
	if err != nil {
		return undoRecord{}, err
	}
	u, err := decodeUndo(data)
	if err != nil {
		return undoRecord{}, fmt.Errorf("undo record %x: %w", hash, err)
	}
	return u, nil
}

// Head reads the head block hash.
func (s *Store) Head() (common.Hash, error) {
	data, err := s.get(keyHead)
	if err != nil {
		return common.Hash{}, err
	}
	return common.BytesToHash(data), nil
}

// GenesisJSON reads the genesis file the database was created with.
func (s *Store) GenesisJSON() ([]byte, error) { return s.get(keyGenesis) }

// openState opens the state at root on the store, checking that its root
// node is stored intact.
func (s *Store) openState(root common.Hash) (*State, error) {
	return openState(newTrieNodes(s), root)
}

// storeBatch collects the writes of one import or reorg.
type storeBatch struct {
	b    *leveldb.Batch
	head *common.Hash // the new head, if the batch moves it
}

func newBatch() *storeBatch { return &storeBatch{b: new(leveldb.Batch)} }

func (b *storeBatch) putBlock(blk *Block, weight *big.Int) error {
	hash := blk.Hash()
	hb, err := blk.Header.MarshalBinary()
	if err != nil {
		return err
	}
	body, err := encodeTxs(blk.Txs)
	if err != nil {
		return fmt.Errorf("encode body %x: %w", hash, err)
	}
	b.b.Put(key(prefixHeader, hash[:]), hb)
	b.b.Put(key(prefixBody, hash[:]), body)
	if len(blk.Consensus) > 0 {
		b.b.Put(key(prefixConsensus, hash[:]), blk.Consensus)
	}
	if len(blk.Proof) > 0 {
		b.b.Put(key(prefixProof, hash[:]), blk.Proof)
	}
	b.b.Put(key(prefixWeight, hash[:]), weight.Bytes())
	b.b.Put(key(prefixByHeight, heightKey(blk.Height()), hash[:]), nil)
	return nil
}

// setCanonical makes blk the canonical block at its height and indexes its txs.
func (b *storeBatch) setCanonical(blk *Block, undo undoRecord) error {
	hash := blk.Hash()
	b.b.Put(key(prefixCanonical, heightKey(blk.Height())), hash[:])
	for i, tx := range blk.Txs {
		th := tx.Hash()
		b.b.Put(key(prefixTxLookup, th[:]), binary.BigEndian.AppendUint32(append([]byte(nil), hash[:]...), uint32(i)))
	}
	enc, err := undo.encode()
	if err != nil {
		return fmt.Errorf("encode undo %x: %w", hash, err)
	}
	b.b.Put(key(prefixUndo, hash[:]), enc)
	return nil
}

// unsetCanonical removes blk's canonical entries (it is being reorged out).
func (b *storeBatch) unsetCanonical(blk *Block) {
	hash := blk.Hash()
	b.b.Delete(key(prefixCanonical, heightKey(blk.Height())))
	for _, tx := range blk.Txs {
		th := tx.Hash()
		b.b.Delete(key(prefixTxLookup, th[:]))
	}
	b.b.Delete(key(prefixUndo, hash[:]))
}

// putState commits st (see State.commit) and writes the state nodes it has
// not yet stored: after the batch is durable, st.ClearJournal.
func (b *storeBatch) putState(st *State) error {
	if _, err := st.commit(); err != nil {
		return fmt.Errorf("commit state: %w", err)
	}
	b.putTrieNodes(st.nodes.pending())
	return nil
}

func (b *storeBatch) setHead(hash common.Hash) {
	b.b.Put(keyHead, hash[:])
	b.head = &hash
}

func (b *storeBatch) setGenesis(data []byte) {
	b.b.Put(keyGenesis, data)
	b.b.Put(keyBlockFormat, []byte{blockFormat})
	b.b.Put(keyStateFormat, []byte{stateFormat})
}

// commit writes the batch atomically and durably, then records a new head
// in the head marker. While the store is failed (see health.go) it returns
// ErrStorageUnavailable without writing.
func (s *Store) commit(b *storeBatch) error {
	if err := s.checkWritable(); err != nil {
		return err
	}
	local := b.b
	if s.shared != nil {
		var err error
		if local, err = s.shared.split(b.b); err != nil {
			return err
		}
	}
	s.mu.RLock()
	err := s.db.Write(local, &opt.WriteOptions{Sync: true})
	var undo *leveldb.Batch
	if err != nil && !errors.Is(err, leveldb.ErrClosed) {
		undo = s.inverse(local)
	}
	s.mu.RUnlock()
	if err != nil {
		if errors.Is(err, leveldb.ErrClosed) {
			return fmt.Errorf("write batch: %w", err)
		}
		return s.writeFailed(fmt.Errorf("write batch: %w", err), true, undo)
	}
	if b.head != nil {
		s.markHead(*b.head)
	}
	return nil
}
