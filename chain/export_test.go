package chain

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// CompactStore compacts the whole database, for benchmarks that must not
// count the compaction of their setup's writes.
func CompactStore(s *Store) error { return s.db.CompactRange(util.Range{}) }

// EthereumRoot is the state root go-ethereum computes for accts.
var EthereumRoot = ethereumRoot

// LocalHeaderBytes is the size of the value s's own database holds under
// the header key of hash (-1: none).
func LocalHeaderBytes(s *Store, hash common.Hash) int {
	v, err := s.db.Get(key(prefixHeader, hash[:]), nil)
	if err != nil {
		return -1
	}
	return len(v)
}

// LocalStateNodes counts the state nodes s's own database holds.
func LocalStateNodes(s *Store) int {
	it := s.db.NewIterator(util.BytesPrefix(prefixTrieNode), nil)
	defer it.Release()
	n := 0
	for it.Next() {
		if len(it.Key()) == len(prefixTrieNode)+common.HashLength { // not state-format
			n++
		}
	}
	return n
}
