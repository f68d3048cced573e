package chain

import (
	"bytes"
	"fmt"
	"maps"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/holiman/uint256"
)

// Account is the state of one address. Values are treated as immutable: to
// change a balance, set a new *big.Int rather than mutating the old one.
type Account struct {
	Nonce   uint64
	Balance *big.Int
}

// MaxRecordSize bounds one engine record.
const MaxRecordSize = 1024

// RecordsAddress is the system account whose storage holds the engine's
// records: record key k is its storage slot k, holding the record's bytes.
// Nobody holds its key; the account is present while it holds a record or
// a balance.
var RecordsAddress = common.BytesToAddress(crypto.Keccak256([]byte("chaind engine records"))[12:])

// State is the world state: every account, and the consensus engine's own
// records (proof of stake: stakes, checkpoints, vote tallies), in
// go-ethereum's Merkle-Patricia trie with hashed keys. An account is the
// leaf keccak256(address) -> RLP(nonce, balance, storage root, code hash);
// ordinary accounts have empty storage and no code, so for the same
// accounts the root is the one Ethereum computes. The records are the
// storage of RecordsAddress, so the root commits to them too. The tries
// read their nodes from the store (see trieNodes), so a node holds in
// memory what a block touches, not every account.
//
// Changes wait in memory until Root or a commit puts them into the tries; a
// journal of changes lets a failed block or a reorg be rolled back and
// builds each block's undo record. A State is safe for concurrent reads.
type State struct {
	mu      sync.Mutex // a trie read caches the nodes it resolves: reads write
	nodes   *trieNodes
	acc     *trie.StateTrie             // the accounts, as of the last apply
	rec     *trie.StateTrie             // RecordsAddress's storage, as of the last apply
	changed map[common.Address]*Account // not yet in acc; nil: deleted
	recs    map[common.Hash][]byte      // not yet in rec; empty: deleted
	err     error                       // the first failed trie access

	journal       []journalEntry
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

// NewState returns an empty state that lives in memory.
func NewState() *State {
	st, err := openState(newTrieNodes(nil), types.EmptyRootHash)
	if err != nil {
		panic(fmt.Sprintf("open empty state: %v", err)) // an empty trie reads nothing
	}
	return st
}

// openState opens the state whose root is root, reading nodes from nodes.
func openState(nodes *trieNodes, root common.Hash) (*State, error) {
	st := &State{nodes: nodes, changed: make(map[common.Address]*Account), recs: make(map[common.Hash][]byte)}
	if err := st.open(root); err != nil {
		return nil, err
	}
	return st, nil
}

// open points the tries at root.
func (s *State) open(root common.Hash) error {
	acc, err := trie.NewStateTrie(trie.StateTrieID(root), s.nodes)
	if err != nil {
		return fmt.Errorf("open state %x: %w", root, err)
	}
	recRoot := types.EmptyRootHash
	if a, err := acc.GetAccount(RecordsAddress); err != nil {
		return fmt.Errorf("open state %x: %w", root, err)
	} else if a != nil {
		recRoot = a.Root
	}
	return s.openTries(acc, root, recRoot)
}

// openTries points the tries at root, whose engine records' root is
// recRoot, with acc already open at root (nil: open it).
func (s *State) openTries(acc *trie.StateTrie, root, recRoot common.Hash) error {
	if acc == nil {
		var err error
		if acc, err = trie.NewStateTrie(trie.StateTrieID(root), s.nodes); err != nil {
			return fmt.Errorf("open state %x: %w", root, err)
		}
	}
	rec, err := trie.NewStateTrie(trie.StorageTrieID(root, crypto.Keccak256Hash(RecordsAddress[:]), recRoot), s.nodes)
	if err != nil {
		return fmt.Errorf("open engine records %x: %w", recRoot, err)
	}
	s.acc, s.rec = acc, rec
	return nil
}

// fail keeps the first storage error: State's reads cannot return one, so
// the commit that follows them does (see Err).
func (s *State) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// Err is the first error the state met reading or writing its tries, if
// any: a state that has one must not be committed.
func (s *State) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Get returns addr's account and whether it exists. A missing account reads as
// zero balance and nonce.
func (s *State) Get(addr common.Address) (Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(addr)
}

func (s *State) get(addr common.Address) (Account, bool) {
	if a, ok := s.changed[addr]; ok {
		if a == nil {
			return Account{Balance: new(big.Int)}, false
		}
		return *a, true
	}
	sa, err := s.acc.GetAccount(addr)
	if err != nil {
		s.fail(fmt.Errorf("read account %s: %w", addr.Hex(), err))
	}
	if sa == nil {
		return Account{Balance: new(big.Int)}, false
	}
	return Account{Nonce: sa.Nonce, Balance: sa.Balance.ToBig()}, true
}

// Set stores addr's account, journaling the previous value.
func (s *State) Set(addr common.Address, a Account) {
	if a.Balance.BitLen() > 256 {
		panic(fmt.Sprintf("state: account %s out of range", addr.Hex()))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, existed := s.get(addr)
	s.journal = append(s.journal, journalEntry{Addr: addr, Existed: existed, Prev: prev})
	s.changed[addr] = &a
}

// Credit adds amount to addr's balance.
func (s *State) Credit(addr common.Address, amount *big.Int) {
	a, _ := s.Get(addr)
	a.Balance = new(big.Int).Add(a.Balance, amount)
	s.Set(addr, a)
}

// restore sets addr back to a journaled value.
func (s *State) restore(e journalEntry) {
	if e.Existed {
		prev := e.Prev
		s.changed[e.Addr] = &prev
	} else {
		s.changed[e.Addr] = nil
	}
}

// Record returns the engine record at key, or nil if there is none. The
// slice must not be modified.
func (s *State) Record(key common.Hash) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.record(key)
}

func (s *State) record(key common.Hash) []byte {
	if v, ok := s.recs[key]; ok {
		if len(v) == 0 {
			return nil
		}
		return v
	}
	v, err := s.rec.GetStorage(RecordsAddress, key[:])
	if err != nil {
		s.fail(fmt.Errorf("read engine record %x: %w", key, err))
	}
	return v
}

// SetRecord stores the engine record at key, journaling the previous value;
// an empty value deletes the record. Records longer than MaxRecordSize are a
// programming error of the engine and panic.
func (s *State) SetRecord(key common.Hash, value []byte) {
	if len(value) > MaxRecordSize {
		panic(fmt.Sprintf("state: record %x of %d bytes", key, len(value)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.record(key)
	if len(value) == 0 && prev == nil {
		return // deleting nothing: no change to journal or undo
	}
	s.recordJournal = append(s.recordJournal, recordEntry{Key: key, Prev: prev})
	s.recs[key] = bytes.Clone(value)
	if s.recs[key] == nil {
		s.recs[key] = []byte{}
	}
}

// Mark is a position in the journal to revert to.
type Mark struct{ accounts, records int }

// Mark returns the current position in the journal.
func (s *State) Mark() Mark {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Mark{len(s.journal), len(s.recordJournal)}
}

// RevertTo undoes every change made since mark.
func (s *State) RevertTo(mark Mark) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.journal) - 1; i >= mark.accounts; i-- {
		s.restore(s.journal[i])
	}
	s.journal = s.journal[:mark.accounts]
	for i := len(s.recordJournal) - 1; i >= mark.records; i-- {
		e := s.recordJournal[i]
		s.recs[e.Key] = e.Prev
		if e.Prev == nil {
			s.recs[e.Key] = []byte{}
		}
	}
	s.recordJournal = s.recordJournal[:mark.records]
}

// ClearJournal forgets the journal: the changes become permanent. For a
// state on a store, the batch holding them (see storeBatch.putState) is
// durable by then, and the state stops keeping its new nodes in memory.
func (s *State) ClearJournal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.journal = s.journal[:0]
	s.recordJournal = s.recordJournal[:0]
	s.nodes.persisted()
}

// undoSince returns, for each account and record changed since mark, its
// value before the first change: applying it restores the state at mark.
func (s *State) undoSince(mark Mark) undoRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
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

// applyUndo restores the values an undo record holds, journaling the change.
func (s *State) applyUndo(u undoRecord) {
	for _, e := range u.Entries {
		if e.Existed {
			s.Set(e.Addr, e.Prev)
			continue
		}
		s.mu.Lock()
		prev, existed := s.get(e.Addr)
		s.journal = append(s.journal, journalEntry{Addr: e.Addr, Existed: existed, Prev: prev})
		s.changed[e.Addr] = nil
		s.mu.Unlock()
	}
	for _, e := range u.Records {
		s.SetRecord(e.Key, e.Prev)
	}
}

// Root is the state root: the root of the account trie, whose
// RecordsAddress account commits to the engine records.
func (s *State) Root() common.Hash {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apply()
	return s.acc.Hash()
}

// apply moves the waiting changes into the tries.
func (s *State) apply() {
	if len(s.recs) > 0 {
		for k, v := range s.recs {
			var err error
			if len(v) == 0 {
				err = s.rec.DeleteStorage(RecordsAddress, k[:])
			} else {
				err = s.rec.UpdateStorage(RecordsAddress, k[:], v)
			}
			if err != nil {
				s.fail(fmt.Errorf("write engine record %x: %w", k, err))
			}
		}
		clear(s.recs)
		if _, ok := s.changed[RecordsAddress]; !ok {
			if a, ok := s.get(RecordsAddress); ok {
				s.changed[RecordsAddress] = &a
			} else {
				s.changed[RecordsAddress] = nil
			}
		}
	}
	for addr, a := range s.changed {
		s.write(addr, a)
	}
	clear(s.changed)
}

// write puts one account into the account trie.
func (s *State) write(addr common.Address, a *Account) {
	root := types.EmptyRootHash
	if addr == RecordsAddress {
		root = s.rec.Hash()
		switch {
		case a == nil && root != types.EmptyRootHash:
			a = &Account{Balance: new(big.Int)}
		case a != nil && a.Nonce == 0 && a.Balance.Sign() == 0 && root == types.EmptyRootHash:
			a = nil
		}
	}
	var err error
	if a == nil {
		err = s.acc.DeleteAccount(addr)
	} else {
		err = s.acc.UpdateAccount(addr, &types.StateAccount{
			Nonce: a.Nonce, Balance: uint256.MustFromBig(a.Balance), Root: root, CodeHash: types.EmptyCodeHash[:],
		}, 0)
	}
	if err != nil {
		s.fail(fmt.Errorf("write account %s: %w", addr.Hex(), err))
	}
}

// commit applies the waiting changes, hands the tries' new nodes to the
// state's node store (see trieNodes) and reopens the tries at the new root,
// which it returns.
func (s *State) commit() (common.Hash, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apply()
	if s.err != nil {
		return common.Hash{}, s.err
	}
	// apply wrote the records' root into RecordsAddress's account whenever
	// either changed, so the reopened tries need not look it up.
	recRoot, recNodes := s.rec.Commit(false)
	root, accNodes := s.acc.Commit(false)
	if recNodes != nil {
		s.nodes.add(recNodes.HashSet())
	}
	if accNodes != nil {
		s.nodes.add(accNodes.HashSet())
	}
	if err := s.openTries(nil, root, recRoot); err != nil {
		s.fail(err)
		return common.Hash{}, err
	}
	return root, nil
}

// Copy returns an independent copy with an empty journal.
func (s *State) Copy() *State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &State{
		nodes: s.nodes, acc: s.acc.Copy(), rec: s.rec.Copy(),
		changed: maps.Clone(s.changed), recs: maps.Clone(s.recs), err: s.err,
	}
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
