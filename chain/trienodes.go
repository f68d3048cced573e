package chain

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/ethereum/go-ethereum/triedb/database"
)

// The state's tries (see State) are stored node by node, each under its
// hash ("s" + keccak256 of the node -> the node's RLP), the scheme go-ethereum
// calls hash-based. A node is written once, in the batch of the block whose
// state first holds it, and never deleted: every state the chain ever
// committed stays readable at its root, which is how history reads and
// proofs at old heights work.
var prefixTrieNode = []byte("s")

// trieNodes is where a State's tries read their nodes: the nodes the state
// committed that are not yet known to be on disk (mem), over the store (disk,
// nil for a state that lives in memory alone). Every node read from disk is
// checked against its hash, so a node changed behind the node's back is an
// error rather than a wrong balance.
type trieNodes struct {
	mu     sync.RWMutex
	mem    map[common.Hash][]byte
	disk   *Store
	bypass bool // read disk past the store's node cache (a full check)
}

func newTrieNodes(disk *Store) *trieNodes {
	return &trieNodes{mem: make(map[common.Hash][]byte), disk: disk}
}

// NodeReader implements database.NodeDatabase: nodes are keyed by hash
// alone, so one reader serves every state root.
func (n *trieNodes) NodeReader(common.Hash) (database.NodeReader, error) { return n, nil }

// Node implements database.NodeReader.
func (n *trieNodes) Node(_ common.Hash, _ []byte, hash common.Hash) ([]byte, error) {
	n.mu.RLock()
	blob, ok := n.mem[hash]
	n.mu.RUnlock()
	if ok {
		return blob, nil
	}
	if n.disk == nil {
		return nil, fmt.Errorf("state node %x: %w", hash, ErrNotFound)
	}
	if n.bypass {
		return n.disk.readTrieNode(hash)
	}
	return n.disk.trieNode(hash)
}

// add keeps committed nodes in memory until they are on disk.
func (n *trieNodes) add(nodes map[common.Hash][]byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for h, blob := range nodes {
		if len(blob) > 0 {
			n.mem[h] = blob
		}
	}
}

// pending returns the nodes not yet known to be on disk.
func (n *trieNodes) pending() map[common.Hash][]byte {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return maps.Clone(n.mem)
}

// persisted moves the memory layer of a state on disk into the store's
// node cache: the batch that holds its nodes is durable, and the next block
// reads the newest nodes first (the upper levels of the trie change in
// every block).
func (n *trieNodes) persisted() {
	if n.disk == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.disk.cacheTrieNodes(n.mem)
	clear(n.mem)
}

// cacheTrieNodes puts state nodes just written into the node cache: the
// next blocks read the newest nodes first.
func (s *Store) cacheTrieNodes(nodes map[common.Hash][]byte) {
	if s.nodeCache == nil {
		return
	}
	for h, blob := range nodes {
		s.nodeCache.Set(h[:], blob)
	}
}

// errTamperedNode: a stored node does not hash to its key.
var errTamperedNode = errors.New("stored state node does not match its hash; the data directory cannot be trusted")

// nodeCacheSize bounds the cache of state nodes a store on disk keeps in
// memory (outside the Go heap): the upper levels of the account trie, which
// every account read passes through, and recently read accounts.
const nodeCacheSize = 64 << 20

// trieNode reads one state node and checks it against its hash.
func (s *Store) trieNode(hash common.Hash) ([]byte, error) {
	if s.nodeCache != nil {
		if blob, ok := s.nodeCache.HasGet(nil, hash[:]); ok {
			return blob, nil
		}
	}
	blob, err := s.readTrieNode(hash)
	if err == nil && s.nodeCache != nil {
		s.nodeCache.Set(hash[:], blob)
	}
	return blob, err
}

// readTrieNode reads one state node from the database and checks it
// against its hash.
func (s *Store) readTrieNode(hash common.Hash) ([]byte, error) {
	blob, err := s.get(key(prefixTrieNode, hash[:]))
	if err != nil {
		return nil, fmt.Errorf("state node %x: %w", hash, err)
	}
	if got := crypto.Keccak256Hash(blob); !bytes.Equal(got[:], hash[:]) {
		return nil, fmt.Errorf("state node %x: %w", hash, errTamperedNode)
	}
	return blob, nil
}

// putTrieNodes writes state nodes to the batch.
func (b *storeBatch) putTrieNodes(nodes map[common.Hash][]byte) {
	for h, blob := range nodes {
		b.b.Put(key(prefixTrieNode, h[:]), blob)
	}
}

// checkState reads every node of the state at root (the account trie and
// the engine records' storage trie) from the database, past the node cache,
// and checks each against its hash: the stored state is whole and unaltered.
func (s *Store) checkState(root common.Hash) error {
	nodes := &trieNodes{disk: s, bypass: true}
	acc, err := trie.NewStateTrie(trie.StateTrieID(root), nodes)
	if err != nil {
		return err
	}
	if err := walkTrie(acc); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	ra, err := acc.GetAccount(RecordsAddress)
	if err != nil || ra == nil {
		return err
	}
	rec, err := trie.NewStateTrie(trie.StorageTrieID(root, crypto.Keccak256Hash(RecordsAddress[:]), ra.Root), nodes)
	if err != nil {
		return err
	}
	if err := walkTrie(rec); err != nil {
		return fmt.Errorf("engine records: %w", err)
	}
	return nil
}

// walkTrie visits every node of tr.
func walkTrie(tr *trie.StateTrie) error {
	it, err := tr.NodeIterator(nil)
	if err != nil {
		return err
	}
	for it.Next(true) {
	}
	return it.Error()
}
