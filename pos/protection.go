package pos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/ethereum/go-ethereum/common"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"
)

// Slashing protection: an honest validator never signs two blocks for one
// slot, two votes for one target epoch, or a vote surrounding another, not
// even across restarts, failovers to another client or reorgs. A node keeps
// one protection database for all the keys it serves (a LevelDB in its data
// directory) and asks it before every block or vote it signs; the database
// records the message, durably (a synced write), before it answers, so no
// signature leaves the process unrecorded.
//
// The database is EIP-3076's "minimal" kind: per key, the highest slot it
// signed a block for and the highest source and target epochs it voted
// with, each with the signing root of that message when known. It refuses:
//
//   - a block for a slot at or below the highest, unless it is the very
//     block signed there (same signing root: a repeat signing);
//   - a vote from a source below the highest source (it could surround);
//   - a vote for a target at or below the highest target, unless it is
//     the very vote signed for it (same source and signing root).
//
// Any vote it allows has source >= every earlier source and target > every
// earlier target, so it neither doubles nor surrounds nor is surrounded by
// one. RANDAO reveals are not recorded: a reveal is a deterministic
// signature of the epoch, and no rule slashes it.
//
// Records are kept by public key (a secp256k1 key, compressed, for chaind's
// validators), so that one database serves any number of keys, and the
// database belongs to one chain: it is bound to the chain's genesis hash
// (EIP-3076's genesis_validators_root) and refuses another. Import and
// export use the EIP-3076 interchange format (interchange.go).

// ErrWouldSlash is the protection database's refusal to sign.
var ErrWouldSlash = errors.New("slashing protection: refusing to sign")

// SignedBlock is the highest block a key signed: its slot and signing root
// (zero when unknown, as after importing a record without one).
type SignedBlock struct {
	Slot uint64      `json:"slot"`
	Root common.Hash `json:"root"`
}

// ProtectedVote is the highest source and target epochs a key voted with, and
// the signing root of the vote for that target from that source (zero when
// unknown or when the two highs come from different votes).
type ProtectedVote struct {
	Source uint64      `json:"source"`
	Target uint64      `json:"target"`
	Root   common.Hash `json:"root"`
}

// keyRecord is what the database holds for one key.
type keyRecord struct {
	Block *SignedBlock   `json:"block,omitempty"`
	Vote  *ProtectedVote `json:"vote,omitempty"`
}

// Protection is a node's slashing-protection database. It is safe for
// concurrent use.
type Protection struct {
	mu   sync.Mutex
	db   *leveldb.DB
	stor storage.Storage
}

var (
	protGenesisKey = []byte("genesis")
	protKeyPrefix  = []byte("key/")
)

// ProtectionDir is the protection database's directory in a node's data
// directory.
const ProtectionDir = "slashing-protection"

// OpenProtection opens (or creates) the protection database in dir. It
// fails while another process has it open (a running node).
func OpenProtection(dir string) (*Protection, error) {
	stor, err := storage.OpenFile(dir, false)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, fmt.Errorf("slashing protection %s: it is locked: a chaind node is using it; stop the node first (%w)", dir, err)
	} else if err != nil {
		return nil, fmt.Errorf("slashing protection %s: %w", dir, err)
	}
	db, err := leveldb.Open(stor, protOptions)
	if err != nil {
		stor.Close()
		return nil, fmt.Errorf("slashing protection %s: %w", dir, err)
	}
	return &Protection{db: db, stor: stor}, nil
}

// OpenMemProtection opens a protection database on memory storage, for
// tests and for simulations that run many nodes in one process.
func OpenMemProtection() *Protection {
	stor := storage.NewMemStorage()
	db, err := leveldb.Open(stor, protOptions)
	if err != nil {
		panic(fmt.Sprintf("open memory database: %v", err)) // cannot fail on memory storage
	}
	return &Protection{db: db, stor: stor}
}

// protOptions keeps the database small: it holds a record per key.
var protOptions = &opt.Options{WriteBuffer: 64 << 10, BlockCacheCapacity: 64 << 10}

// Close closes the database and releases its directory.
func (p *Protection) Close() error {
	return errors.Join(p.db.Close(), p.stor.Close())
}

// Genesis is the genesis hash the database is bound to; ok is false while
// it is bound to none (a new database).
func (p *Protection) Genesis() (common.Hash, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.genesis()
}

func (p *Protection) genesis() (common.Hash, bool, error) {
	v, err := p.db.Get(protGenesisKey, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return common.Hash{}, false, nil
	}
	if err != nil {
		return common.Hash{}, false, fmt.Errorf("slashing protection: %w", err)
	}
	return common.BytesToHash(v), true, nil
}

// Bind binds a new database to the chain with genesis hash g, and checks
// that a database already bound is g's.
func (p *Protection) Bind(g common.Hash) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bind(g, nil)
}

// bind checks the database's genesis against g and, if it has none, adds
// g to b (or writes it at once when b is nil).
func (p *Protection) bind(g common.Hash, b *leveldb.Batch) error {
	have, ok, err := p.genesis()
	switch {
	case err != nil:
		return err
	case ok && have != g:
		return fmt.Errorf("slashing protection: the database is for the chain with genesis %s, not %s", have.Hex(), g.Hex())
	case ok:
		return nil
	case b != nil:
		b.Put(protGenesisKey, g[:])
		return nil
	}
	return p.write(func(b *leveldb.Batch) { b.Put(protGenesisKey, g[:]) })
}

// write applies a batch durably.
func (p *Protection) write(fill func(*leveldb.Batch)) error {
	b := new(leveldb.Batch)
	fill(b)
	if err := p.db.Write(b, &opt.WriteOptions{Sync: true}); err != nil {
		return fmt.Errorf("slashing protection: %w", err)
	}
	return nil
}

func protKey(pub []byte) []byte { return append(bytes.Clone(protKeyPrefix), pub...) }

func (p *Protection) record(pub []byte) (keyRecord, error) {
	var r keyRecord
	v, err := p.db.Get(protKey(pub), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("slashing protection: %w", err)
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return r, fmt.Errorf("slashing protection: record of %x: %w (refusing to sign with an unreadable record)", pub, err)
	}
	return r, nil
}

func putRecord(b *leveldb.Batch, pub []byte, r keyRecord) {
	v, _ := json.Marshal(r) // cannot fail: numbers and hashes
	b.Put(protKey(pub), v)
}

// SignBlock asks whether the key pub may sign the block for slot with
// signing root root; if so it records the block durably and returns nil,
// otherwise an error wrapping ErrWouldSlash.
func (p *Protection) SignBlock(pub []byte, slot uint64, root common.Hash) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, err := p.record(pub)
	if err != nil {
		return err
	}
	if hi := r.Block; hi != nil && slot <= hi.Slot {
		if slot == hi.Slot && hi.Root != (common.Hash{}) && hi.Root == root {
			return nil // the same block again
		}
		return fmt.Errorf("%w: a block for slot %d: key %x signed a block for slot %d", ErrWouldSlash, slot, pub, hi.Slot)
	}
	r.Block = &SignedBlock{Slot: slot, Root: root}
	return p.write(func(b *leveldb.Batch) { putRecord(b, pub, r) })
}

// SignVote asks whether the key pub may sign a vote from source to target
// with signing root root; if so it records the vote durably and returns
// nil, otherwise an error wrapping ErrWouldSlash.
func (p *Protection) SignVote(pub []byte, source, target uint64, root common.Hash) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, err := p.record(pub)
	if err != nil {
		return err
	}
	if source > target {
		return fmt.Errorf("%w: a vote from epoch %d to an earlier target %d", ErrWouldSlash, source, target)
	}
	if hi := r.Vote; hi != nil {
		switch {
		case target == hi.Target && source == hi.Source && hi.Root != (common.Hash{}) && hi.Root == root:
			return nil // the same vote again
		case source < hi.Source:
			return fmt.Errorf("%w: a vote from source epoch %d: key %x voted from epoch %d (it could surround that vote)", ErrWouldSlash, source, pub, hi.Source)
		case target <= hi.Target:
			return fmt.Errorf("%w: a vote for target epoch %d: key %x voted for epoch %d", ErrWouldSlash, target, pub, hi.Target)
		}
	}
	r.Vote = &ProtectedVote{Source: source, Target: target, Root: root}
	return p.write(func(b *leveldb.Batch) { putRecord(b, pub, r) })
}

// records lists every key's record, in key order.
func (p *Protection) records() (pubs [][]byte, recs []keyRecord, err error) {
	it := p.db.NewIterator(nil, nil)
	defer it.Release()
	for ok := it.Seek(protKeyPrefix); ok && bytes.HasPrefix(it.Key(), protKeyPrefix); ok = it.Next() {
		var r keyRecord
		if err := json.Unmarshal(it.Value(), &r); err != nil {
			return nil, nil, fmt.Errorf("slashing protection: record of %x: %w", it.Key()[len(protKeyPrefix):], err)
		}
		pubs = append(pubs, bytes.Clone(it.Key()[len(protKeyPrefix):]))
		recs = append(recs, r)
	}
	if err := it.Error(); err != nil {
		return nil, nil, fmt.Errorf("slashing protection: %w", err)
	}
	return pubs, recs, nil
}
