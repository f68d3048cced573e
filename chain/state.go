package chain

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"math/big"
	"math/bits"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
)

// Account is the state of one address. Values are treated as immutable: to
// change a balance, set a new *big.Int rather than mutating the old one.
type Account struct {
	Nonce   uint64
	Balance *big.Int
}

func (a Account) appendLeaf(b []byte, addr common.Address) []byte {
	b = append(b, addr[:]...)
	b = binary.BigEndian.AppendUint64(b, a.Nonce)
	var word [32]byte
	a.Balance.FillBytes(word[:])
	return append(b, word[:]...)
}

// MaxRecordSize bounds one engine record.
const MaxRecordSize = 1024

// State is the world state: every account, and the consensus engine's own
// records (proof of stake: stakes, checkpoints, vote tallies), each in memory
// with a Merkle commitment (see stateTree). The state root commits to both;
// the account space is what eth_getBalance and friends read, the records are
// the engine's alone and never appear as accounts. A journal of changes lets
// a failed block or a reorg be rolled back and builds each block's undo
// record.
type State struct {
	accounts map[common.Address]Account
	tree     *stateTree
	journal  []journalEntry

	records       map[common.Hash][]byte
	recordTree    *stateTree // nil until the first record: PoW keeps none
	recordJournal []recordEntry
}

// journalEntry records an account's value before a change.
type journalEntry struct {
	Addr    common.Address
	Existed bool
	Prev    Account
}

// recordEntry records an engine record's value before a change (nil: absent).
type recordEntry struct {
	Key  common.Hash
	Prev []byte
}

// NewState returns an empty state.
func NewState() *State {
	return &State{accounts: make(map[common.Address]Account), tree: newStateTree(), records: make(map[common.Hash][]byte)}
}

// Get returns addr's account and whether it exists. A missing account reads as
// zero balance and nonce.
func (s *State) Get(addr common.Address) (Account, bool) {
	a, ok := s.accounts[addr]
	if !ok {
		return Account{Balance: new(big.Int)}, false
	}
	return a, true
}

// Set stores addr's account, journaling the previous value.
func (s *State) Set(addr common.Address, a Account) {
	prev, existed := s.accounts[addr]
	s.journal = append(s.journal, journalEntry{Addr: addr, Existed: existed, Prev: prev})
	s.put(addr, a)
}

// Credit adds amount to addr's balance.
func (s *State) Credit(addr common.Address, amount *big.Int) {
	a, _ := s.Get(addr)
	a.Balance = new(big.Int).Add(a.Balance, amount)
	s.Set(addr, a)
}

func (s *State) put(addr common.Address, a Account) {
	if a.Balance.BitLen() > 256 {
		panic(fmt.Sprintf("state: account %s out of range", addr.Hex()))
	}
	if _, ok := s.accounts[addr]; !ok {
		s.tree.insert(accountKey(addr))
	}
	s.accounts[addr] = a
	s.tree.touch(accountKey(addr))
}

func (s *State) remove(addr common.Address) {
	if _, ok := s.accounts[addr]; ok {
		delete(s.accounts, addr)
		s.tree.remove(accountKey(addr))
	}
}

// Record returns the engine record at key, or nil if there is none. The
// slice must not be modified.
func (s *State) Record(key common.Hash) []byte { return s.records[key] }

// SetRecord stores the engine record at key, journaling the previous value;
// an empty value deletes the record. Records longer than MaxRecordSize are a
// programming error of the engine and panic.
func (s *State) SetRecord(key common.Hash, value []byte) {
	if len(value) > MaxRecordSize {
		panic(fmt.Sprintf("state: record %x of %d bytes", key, len(value)))
	}
	prev, existed := s.records[key]
	if len(value) == 0 && !existed {
		return // deleting nothing: no change to journal or undo
	}
	s.recordJournal = append(s.recordJournal, recordEntry{Key: key, Prev: prev})
	s.putRecord(key, bytes.Clone(value))
}

func (s *State) putRecord(key common.Hash, value []byte) {
	if s.recordTree == nil {
		s.recordTree = newStateTree()
	}
	_, existed := s.records[key]
	switch {
	case len(value) == 0 && existed:
		delete(s.records, key)
		s.recordTree.remove(key)
	case len(value) == 0:
	case existed:
		s.records[key] = value
		s.recordTree.touch(key)
	default:
		s.records[key] = value
		s.recordTree.insert(key)
	}
}

// Len is the number of accounts.
func (s *State) Len() int { return len(s.accounts) }

// Mark is a position in the journal to revert to.
type Mark struct{ accounts, records int }

// Mark returns the current position in the journal.
func (s *State) Mark() Mark { return Mark{len(s.journal), len(s.recordJournal)} }

// RevertTo undoes every change made since mark.
func (s *State) RevertTo(mark Mark) {
	for i := len(s.journal) - 1; i >= mark.accounts; i-- {
		e := s.journal[i]
		if e.Existed {
			s.put(e.Addr, e.Prev)
		} else {
			s.remove(e.Addr)
		}
	}
	s.journal = s.journal[:mark.accounts]
	for i := len(s.recordJournal) - 1; i >= mark.records; i-- {
		e := s.recordJournal[i]
		s.putRecord(e.Key, e.Prev)
	}
	s.recordJournal = s.recordJournal[:mark.records]
}

// ClearJournal forgets the journal: the changes become permanent.
func (s *State) ClearJournal() {
	s.journal = s.journal[:0]
	s.recordJournal = s.recordJournal[:0]
}

// undoSince returns, for each account and record changed since mark, its
// value before the first change: applying it restores the state at mark.
func (s *State) undoSince(mark Mark) undoRecord {
	var u undoRecord
	seen := make(map[common.Address]bool)
	for _, e := range s.journal[mark.accounts:] {
		if !seen[e.Addr] {
			seen[e.Addr] = true
			u.Entries = append(u.Entries, e)
		}
	}
	seenKey := make(map[common.Hash]bool)
	for _, e := range s.recordJournal[mark.records:] {
		if !seenKey[e.Key] {
			seenKey[e.Key] = true
			u.Records = append(u.Records, e)
		}
	}
	return u
}

// everything returns an undo record naming every account and record (with
// empty previous values): what a fresh database must store.
func (s *State) everything() undoRecord {
	var u undoRecord
	for addr := range s.accounts {
		u.Entries = append(u.Entries, journalEntry{Addr: addr})
	}
	for key := range s.records {
		u.Records = append(u.Records, recordEntry{Key: key})
	}
	return u
}

// addresses lists the accounts the record restores, in first-change order.
func (u undoRecord) addresses() []common.Address {
	addrs := make([]common.Address, len(u.Entries))
	for i, e := range u.Entries {
		addrs[i] = e.Addr
	}
	return addrs
}

// applyUndo restores the values an undo record holds, journaling the change.
func (s *State) applyUndo(u undoRecord) {
	for _, e := range u.Entries {
		prev, existed := s.accounts[e.Addr]
		s.journal = append(s.journal, journalEntry{Addr: e.Addr, Existed: existed, Prev: prev})
		if e.Existed {
			s.put(e.Addr, e.Prev)
		} else {
			s.remove(e.Addr)
		}
	}
	for _, e := range u.Records {
		s.SetRecord(e.Key, e.Prev)
	}
}

// Root is the state root: SHA-256 of the Merkle root over all accounts and
// the Merkle root over all engine records.
func (s *State) Root() common.Hash {
	accounts := s.tree.root(func(b []byte, k common.Hash) []byte {
		addr := common.Address(k[:common.AddressLength])
		return s.accounts[addr].appendLeaf(b, addr)
	})
	records := emptyTreeRoot()
	if s.recordTree != nil {
		records = s.recordTree.root(func(b []byte, k common.Hash) []byte {
			v := s.records[k]
			b = append(b, k[:]...)
			b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
			return append(b, v...)
		})
	}
	return hashPair(accounts, records)
}

// Copy returns an independent copy with an empty journal.
func (s *State) Copy() *State {
	c := &State{accounts: make(map[common.Address]Account, len(s.accounts)), tree: s.tree.copy(), records: make(map[common.Hash][]byte, len(s.records))}
	for k, v := range s.accounts {
		c.accounts[k] = v
	}
	for k, v := range s.records {
		c.records[k] = v // values are never modified in place
	}
	if s.recordTree != nil {
		c.recordTree = s.recordTree.copy()
	}
	return c
}

// undoRecord is what a block changed, stored so a reorg can roll it back.
type undoRecord struct {
	Entries []journalEntry
	Records []recordEntry `rlp:"optional"`
}

func (u undoRecord) encode() ([]byte, error) { return rlp.EncodeToBytes(u) }

func decodeUndo(data []byte) (undoRecord, error) {
	var u undoRecord
	err := rlp.DecodeBytes(data, &u)
	return u, err
}

// The state tree is a fixed binary Merkle tree over 2^bucketBits buckets. An
// entry (an account, keyed by its address left-aligned in 32 bytes, or an
// engine record, keyed by its 32-byte key) lives in the bucket named by the
// first bucketBits bits of its key (addresses and record keys are Keccak
// outputs, so buckets fill evenly); a bucket's leaf is SHA-256 of its
// entries' encodings in key order, and each inner node is SHA-256 of its two
// children. Changing k entries rehashes k buckets and k paths of bucketBits
// nodes: cheap per block, and a root that commits to every entry.
//
// A tree of few entries holds only what differs from the tree over empty
// buckets: the non-empty buckets and the nodes above them, so that a state of
// a few accounts (a simulated node's, a test's) costs what it holds rather
// than the whole tree's 8,192 hashes; a fuller tree holds them all.
const (
	bucketBits = 12
	numBuckets = 1 << bucketBits
)

type stateTree struct {
	// sparse holds the nodes unlike the empty tree's (1 is the root, leaves
	// at numBuckets+i) until there are more than maxSparse of them; then
	// dense holds every node, and sparse is nil.
	sparse  map[int]common.Hash
	dense   *[2 * numBuckets]common.Hash
	buckets map[int][]common.Hash // the non-empty buckets' keys, in order
	dirty   map[int]struct{}
}

// maxSparse is the number of nodes beyond which a tree holds all of them in
// an array: from about there on, a map costs as much memory and more time.
const maxSparse = numBuckets / 2

// emptyNodes holds, for each depth (0: the root, bucketBits: the leaves),
// a node of the tree over empty buckets.
var emptyNodes = func() (nodes [bucketBits + 1]common.Hash) {
	nodes[bucketBits] = sha256.Sum256(nil)
	for d := bucketBits - 1; d >= 0; d-- {
		nodes[d] = hashPair(nodes[d+1], nodes[d+1])
	}
	return nodes
}()

// emptyTreeRoot is the root of the tree over empty buckets.
func emptyTreeRoot() common.Hash { return emptyNodes[0] }

func newStateTree() *stateTree {
	return &stateTree{sparse: make(map[int]common.Hash), buckets: make(map[int][]common.Hash), dirty: make(map[int]struct{})}
}

// node returns node i's hash.
func (t *stateTree) node(i int) common.Hash {
	if t.dense != nil {
		return t.dense[i]
	}
	if h, ok := t.sparse[i]; ok {
		return h
	}
	return emptyNodes[bits.Len(uint(i))-1]
}

// setNode stores node i's hash.
func (t *stateTree) setNode(i int, h common.Hash) {
	switch {
	case t.dense != nil:
		t.dense[i] = h
	case h == emptyNodes[bits.Len(uint(i))-1]:
		delete(t.sparse, i)
	case len(t.sparse) < maxSparse:
		t.sparse[i] = h
	default:
		dense := new([2 * numBuckets]common.Hash)
		for j := 1; j < len(dense); j++ {
			dense[j] = t.node(j)
		}
		dense[i] = h
		t.dense, t.sparse = dense, nil
	}
}

// accountKey is an account's key in the tree: its address, left-aligned.
func accountKey(addr common.Address) (k common.Hash) {
	copy(k[:], addr[:])
	return k
}

func bucketOf(k common.Hash) int {
	return int(binary.BigEndian.Uint16(k[:2]) >> (16 - bucketBits))
}

func (t *stateTree) insert(k common.Hash) {
	b := bucketOf(k)
	list := t.buckets[b]
	i, found := slices.BinarySearchFunc(list, k, compareKey)
	if !found {
		t.buckets[b] = slices.Insert(list, i, k)
	}
	t.dirty[b] = struct{}{}
}

func (t *stateTree) remove(k common.Hash) {
	b := bucketOf(k)
	list := t.buckets[b]
	if i, found := slices.BinarySearchFunc(list, k, compareKey); found {
		if list = slices.Delete(list, i, i+1); len(list) == 0 {
			delete(t.buckets, b)
		} else {
			t.buckets[b] = list
		}
	}
	t.dirty[b] = struct{}{}
}

func (t *stateTree) touch(k common.Hash) { t.dirty[bucketOf(k)] = struct{}{} }

// root rehashes the dirty buckets, encoding each entry with leaf.
func (t *stateTree) root(leaf func(b []byte, k common.Hash) []byte) common.Hash {
	if len(t.dirty) == 0 {
		return t.node(1)
	}
	var buf []byte
	parents := make(map[int]struct{}, len(t.dirty))
	for b := range t.dirty {
		buf = buf[:0]
		for _, k := range t.buckets[b] {
			buf = leaf(buf, k)
		}
		t.setNode(numBuckets+b, sha256.Sum256(buf))
		parents[(numBuckets+b)/2] = struct{}{}
	}
	clear(t.dirty)
	for len(parents) > 0 {
		next := make(map[int]struct{}, len(parents))
		for i := range parents {
			t.setNode(i, hashPair(t.node(2*i), t.node(2*i+1)))
			if i > 1 {
				next[i/2] = struct{}{}
			}
		}
		parents = next
	}
	return t.node(1)
}

func (t *stateTree) copy() *stateTree {
	c := &stateTree{sparse: maps.Clone(t.sparse), buckets: make(map[int][]common.Hash, len(t.buckets)), dirty: maps.Clone(t.dirty)}
	if t.dense != nil {
		dense := *t.dense
		c.dense = &dense
	}
	for i, b := range t.buckets {
		c.buckets[i] = slices.Clone(b)
	}
	return c
}

func hashPair(a, b common.Hash) common.Hash {
	var buf [64]byte
	copy(buf[:32], a[:])
	copy(buf[32:], b[:])
	return sha256.Sum256(buf[:])
}

func compareKey(a, b common.Hash) int { return bytes.Compare(a[:], b[:]) }
