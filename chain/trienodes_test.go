package chain

import (
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/ethereum/go-ethereum/triedb/database"
)

// cacheOnly reads state nodes from a store's node cache alone: a node the
// cache does not hold is an error.
type cacheOnly struct{ s *Store }

func (c cacheOnly) NodeReader(common.Hash) (database.NodeReader, error) { return c, nil }

func (c cacheOnly) Node(_ common.Hash, _ []byte, hash common.Hash) ([]byte, error) {
	if blob, ok := c.s.nodeCache.HasGet(nil, hash[:]); ok {
		return blob, nil
	}
	return nil, fmt.Errorf("state node %x not in the cache", hash)
}

// TestGenesisStateInNodeCache: a new chain reads its genesis state from the
// node cache, not from the database: the genesis batch's nodes are cached
// as an imported block's are, so the first blocks do not read back from
// LevelDB what the genesis just wrote (on the code before, not one of the
// genesis nodes was cached).
func TestGenesisStateInNodeCache(t *testing.T) {
	g := &Genesis{ChainID: 9, Consensus: anyConsensus, Timestamp: 1, Alloc: Alloc{}}
	for i := range 1000 {
		g.Alloc[common.BigToAddress(big.NewInt(int64(i+1)))] = GenesisAccount{Balance: NewBigInt(big.NewInt(1000))}
	}
	g.FillDefaults()
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := Open(Config{Store: s, Genesis: g, Engine: anyEngine{}, Clock: clock.NewSim(time.UnixMilli(1_000_000))})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trie.NewStateTrie(trie.StateTrieID(c.Head().Header.StateRoot), cacheOnly{s})
	if err != nil {
		t.Fatal(err)
	}
	if err := walkTrie(tr); err != nil {
		t.Fatal(err)
	}
	for addr := range g.Alloc {
		if a, err := tr.GetAccount(addr); err != nil || a == nil {
			t.Fatalf("account %s from the cache: %v, %v", addr.Hex(), a, err)
		}
	}
}
