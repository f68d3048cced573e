package chain

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/trie"
)

// State nodes are never deleted (see trieNodes), so the state after any
// canonical block is read, and proved, through the trie at its header's
// state root: the same few node reads at any height, no index to keep, and
// no chain lock (a node, once stored, never changes).

// stateTrieAt opens the account trie after the canonical block at height,
// on the nodes stored on disk, and returns it with the block's header.
func (s *Store) stateTrieAt(height uint64) (*trie.StateTrie, *Header, error) {
	h, err := s.canonicalHeader(height)
	if err != nil {
		return nil, nil, err
	}
	tr, err := s.stateTrie(h)
	return tr, h, err
}

// stateTrie opens the account trie after the block whose header is h.
func (s *Store) stateTrie(h *Header) (*trie.StateTrie, error) {
	tr, err := trie.NewStateTrie(trie.StateTrieID(h.StateRoot), newTrieNodes(s))
	if err != nil {
		return nil, fmt.Errorf("state of block %d: %w", h.Height, err)
	}
	return tr, nil
}

// canonicalHeader returns the header of the canonical block at height.
func (s *Store) canonicalHeader(height uint64) (*Header, error) {
	hash, err := s.CanonicalHash(height)
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", height, err) // above the head
	}
	h, err := s.Header(hash)
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", height, err)
	}
	return h, nil
}

// AccountAt reads addr's account after the canonical block at height.
func (s *Store) AccountAt(addr common.Address, height uint64) (Account, error) {
	h, err := s.canonicalHeader(height)
	if err != nil {
		return Account{}, err
	}
	return s.accountIn(addr, h)
}

// accountIn reads addr's account after the block whose header is h.
func (s *Store) accountIn(addr common.Address, h *Header) (Account, error) {
	tr, err := s.stateTrie(h)
	if err != nil {
		return Account{}, err
	}
	sa, err := tr.GetAccount(addr)
	if err != nil {
		return Account{}, fmt.Errorf("account %s at block %d: %w", addr.Hex(), h.Height, err)
	}
	if sa == nil {
		return Account{Balance: new(big.Int)}, nil
	}
	return Account{Nonce: sa.Nonce, Balance: sa.Balance.ToBig()}, nil
}

// AccountProof is the Merkle proof of one account after a block, and of
// some of its storage slots, as eth_getProof (EIP-1186) returns them: the
// trie nodes from the state root down to addr's leaf (or to where its path
// ends, for an absent account). It verifies with go-ethereum's
// trie.VerifyProof(root, keccak256(addr), nodes), and each slot's with
// trie.VerifyProof(Account.Root, keccak256(slot), nodes).
type AccountProof struct {
	Block       *Header
	Account     types.StateAccount // zero nonce and balance, empty root and code, if absent
	AccountPath [][]byte
	Slots       []SlotProof
}

// SlotProof is the proof of one storage slot: its value (nil if empty) and
// the storage trie's nodes on its path. Only RecordsAddress has storage.
type SlotProof struct {
	Key   common.Hash
	Value []byte
	Path  [][]byte
}

// ProveAccount proves addr's account, and the storage slots named, after
// the canonical block at height.
func (s *Store) ProveAccount(addr common.Address, slots []common.Hash, height uint64) (*AccountProof, error) {
	tr, h, err := s.stateTrieAt(height)
	if err != nil {
		return nil, err
	}
	p := &AccountProof{Block: h}
	sa, err := tr.GetAccount(addr)
	if err != nil {
		return nil, fmt.Errorf("account %s at block %d: %w", addr.Hex(), height, err)
	}
	if sa == nil {
		sa = types.NewEmptyStateAccount()
	}
	p.Account = *sa
	if p.AccountPath, err = prove(tr, addr[:]); err != nil {
		return nil, fmt.Errorf("prove account %s at block %d: %w", addr.Hex(), height, err)
	}
	if len(slots) == 0 {
		return p, nil
	}
	st, err := trie.NewStateTrie(trie.StorageTrieID(h.StateRoot, crypto.Keccak256Hash(addr[:]), sa.Root), newTrieNodes(s))
	if err != nil {
		return nil, fmt.Errorf("storage of %s at block %d: %w", addr.Hex(), height, err)
	}
	for _, k := range slots {
		v, err := st.GetStorage(addr, k[:])
		if err != nil {
			return nil, fmt.Errorf("slot %x of %s at block %d: %w", k, addr.Hex(), height, err)
		}
		path, err := prove(st, k[:])
		if err != nil {
			return nil, fmt.Errorf("prove slot %x of %s at block %d: %w", k, addr.Hex(), height, err)
		}
		p.Slots = append(p.Slots, SlotProof{Key: k, Value: v, Path: path})
	}
	return p, nil
}

// prove returns the nodes on k's path in tr, root first.
func prove(tr *trie.StateTrie, k []byte) ([][]byte, error) {
	var nodes proofNodes
	err := tr.Prove(crypto.Keccak256(k), &nodes)
	return nodes, err
}

// proofNodes collects a proof's nodes in the order the trie writes them,
// root first (an ethdb.KeyValueWriter).
type proofNodes [][]byte

func (p *proofNodes) Put(_ []byte, value []byte) error {
	*p = append(*p, value)
	return nil
}

func (p *proofNodes) Delete([]byte) error { return nil }
