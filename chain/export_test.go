package chain

import "github.com/syndtr/goleveldb/leveldb/util"

// CompactStore compacts the whole database, for benchmarks that must not
// count the compaction of their setup's writes.
func CompactStore(s *Store) error { return s.db.CompactRange(util.Range{}) }

// EthereumRoot is the state root go-ethereum computes for accts.
var EthereumRoot = ethereumRoot
