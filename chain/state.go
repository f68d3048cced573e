package chain

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
)

// Account is the state of one address. Values are treated as immutable: to
// change a balance, set a new *big.Int rather than mutating the old one.
type Account struct {
	Nonce   uint64
	Balance *big.Int
	Stake   *big.Int `rlp:"optional"` // bonded stake (PoS); nil means zero
}

func (a Account) stake() *big.Int {
	if a.Stake == nil {
		return new(big.Int)
	}
	return a.Stake
}

func (a Account) appendLeaf(b []byte, addr common.Address) []byte {
	b = append(b, addr[:]...)
	b = binary.BigEndian.AppendUint64(b, a.Nonce)
	var word [32]byte
	a.Balance.FillBytes(word[:])
	b = append(b, word[:]...)
	a.stake().FillBytes(word[:])
	return append(b, word[:]...)
}

// State holds every account in memory with a Merkle commitment to all of them
// (see stateTree), and a journal of changes so that a failed block or reorg can
// be rolled back and an undo record built for a successful one.
type State struct {
	accounts map[common.Address]Account
	tree     *stateTree
	journal  []journalEntry
}

// journalEntry records an account's value before a change.
type journalEntry struct {
	Addr    common.Address
	Existed bool
	Prev    Account
}

// NewState returns an empty state.
func NewState() *State {
	return &State{accounts: make(map[common.Address]Account), tree: newStateTree()}
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

func (s *State) put(addr common.Address, a Account) {
	if a.Balance.BitLen() > 256 || a.stake().BitLen() > 256 {
		panic(fmt.Sprintf("state: account %s out of range", addr.Hex()))
	}
	if _, ok := s.accounts[addr]; !ok {
		s.tree.insert(addr)
	}
	s.accounts[addr] = a
	s.tree.touch(addr)
}

func (s *State) remove(addr common.Address) {
	if _, ok := s.accounts[addr]; ok {
		delete(s.accounts, addr)
		s.tree.remove(addr)
	}
}

// Len is the number of accounts.
func (s *State) Len() int { return len(s.accounts) }

// Mark returns a position in the journal to revert to.
func (s *State) Mark() int { return len(s.journal) }

// RevertTo undoes every change made since mark.
func (s *State) RevertTo(mark int) {
	for i := len(s.journal) - 1; i >= mark; i-- {
		e := s.journal[i]
		if e.Existed {
			s.put(e.Addr, e.Prev)
		} else {
			s.remove(e.Addr)
		}
	}
	s.journal = s.journal[:mark]
}

// ClearJournal forgets the journal: the changes become permanent.
func (s *State) ClearJournal() { s.journal = s.journal[:0] }

// undoSince returns, for each address changed since mark, its value before the
// first change: applying it restores the state at mark.
func (s *State) undoSince(mark int) undoRecord {
	seen := make(map[common.Address]bool)
	var u undoRecord
	for _, e := range s.journal[mark:] {
		if !seen[e.Addr] {
			seen[e.Addr] = true
			u.Entries = append(u.Entries, e)
		}
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
}

// Root is the state root: the Merkle root over all accounts.
func (s *State) Root() common.Hash { return s.tree.root(s.accounts) }

// Copy returns an independent copy with an empty journal.
func (s *State) Copy() *State {
	c := &State{accounts: make(map[common.Address]Account, len(s.accounts)), tree: s.tree.copy()}
	for k, v := range s.accounts {
		c.accounts[k] = v
	}
	return c
}

// undoRecord is what a block changed, stored so a reorg can roll it back.
type undoRecord struct {
	Entries []journalEntry
}

func (u undoRecord) encode() ([]byte, error) { return rlp.EncodeToBytes(u) }

func decodeUndo(data []byte) (undoRecord, error) {
	var u undoRecord
	err := rlp.DecodeBytes(data, &u)
	return u, err
}

// The state tree is a fixed binary Merkle tree over 2^bucketBits buckets. An
// account lives in the bucket named by the first bucketBits bits of its
// address (addresses are Keccak outputs, so buckets fill evenly); a bucket's
// leaf is SHA-256 of its accounts' encodings in address order, and each inner
// node is SHA-256 of its two children. Changing k accounts rehashes k buckets
// and k paths of bucketBits nodes: cheap per block, and a root that commits to
// every account.
const (
	bucketBits = 12
	numBuckets = 1 << bucketBits
)

type stateTree struct {
	nodes   [2 * numBuckets]common.Hash // 1 is the root; leaves at numBuckets+i
	buckets [numBuckets][]common.Address
	dirty   map[int]struct{}
}

func newStateTree() *stateTree {
	t := &stateTree{dirty: make(map[int]struct{})}
	empty := sha256.Sum256(nil)
	for i := numBuckets; i < 2*numBuckets; i++ {
		t.nodes[i] = empty
	}
	for i := numBuckets - 1; i >= 1; i-- {
		t.nodes[i] = hashPair(t.nodes[2*i], t.nodes[2*i+1])
	}
	return t
}

func bucketOf(addr common.Address) int {
	return int(binary.BigEndian.Uint16(addr[:2]) >> (16 - bucketBits))
}

func (t *stateTree) insert(addr common.Address) {
	b := bucketOf(addr)
	list := t.buckets[b]
	i, found := slices.BinarySearchFunc(list, addr, compareAddr)
	if !found {
		t.buckets[b] = slices.Insert(list, i, addr)
	}
	t.dirty[b] = struct{}{}
}

func (t *stateTree) remove(addr common.Address) {
	b := bucketOf(addr)
	list := t.buckets[b]
	if i, found := slices.BinarySearchFunc(list, addr, compareAddr); found {
		t.buckets[b] = slices.Delete(list, i, i+1)
	}
	t.dirty[b] = struct{}{}
}

func (t *stateTree) touch(addr common.Address) { t.dirty[bucketOf(addr)] = struct{}{} }

func (t *stateTree) root(accounts map[common.Address]Account) common.Hash {
	if len(t.dirty) == 0 {
		return t.nodes[1]
	}
	var buf []byte
	parents := make(map[int]struct{}, len(t.dirty))
	for b := range t.dirty {
		buf = buf[:0]
		for _, addr := range t.buckets[b] {
			buf = accounts[addr].appendLeaf(buf, addr)
		}
		t.nodes[numBuckets+b] = sha256.Sum256(buf)
		parents[(numBuckets+b)/2] = struct{}{}
	}
	clear(t.dirty)
	for len(parents) > 0 {
		next := make(map[int]struct{}, len(parents))
		for i := range parents {
			t.nodes[i] = hashPair(t.nodes[2*i], t.nodes[2*i+1])
			if i > 1 {
				next[i/2] = struct{}{}
			}
		}
		parents = next
	}
	return t.nodes[1]
}

func (t *stateTree) copy() *stateTree {
	c := &stateTree{nodes: t.nodes, dirty: make(map[int]struct{}, len(t.dirty))}
	for i, b := range t.buckets {
		c.buckets[i] = slices.Clone(b)
	}
	for b := range t.dirty {
		c.dirty[b] = struct{}{}
	}
	return c
}

func hashPair(a, b common.Hash) common.Hash {
	var buf [64]byte
	copy(buf[:32], a[:])
	copy(buf[32:], b[:])
	return sha256.Sum256(buf[:])
}

func compareAddr(a, b common.Address) int { return bytes.Compare(a[:], b[:]) }
