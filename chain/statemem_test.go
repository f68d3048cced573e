package chain

import (
	"encoding/binary"
	"math"
	"math/big"
	"runtime"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// TestStateMemoryDoesNotGrowWithAccounts: a state on a store holds in
// memory what its blocks touch, not every account: from 100,000 to 200,000
// accounts, committed block by block, the heap grows by less than 4 MiB
// (LevelDB's block cache and write buffers are full by then), where keeping
// every account in memory would take over 12 MiB more. The store's node
// cache, bounded by nodeCacheSize, is left out.
func TestStateMemoryDoesNotGrowWithAccounts(t *testing.T) {
	if testing.Short() {
		t.Skip("commits 200,000 accounts")
	}
	store, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	store.nodeCache.Reset()
	store.nodeCache = nil // bounded on its own (nodeCacheSize); not what is measured here
	st, err := store.openState(types.EmptyRootHash)
	if err != nil {
		t.Fatal(err)
	}
	next := uint64(0)
	blocks := func(n int) {
		for range n {
			for range 10_000 {
				var addr common.Address
				binary.BigEndian.PutUint64(addr[:], next*0x9e3779b97f4a7c15) // spread over the key space
				next++
				st.Credit(addr, big.NewInt(int64(next)))
			}
			b := newBatch()
			if err := b.putState(st); err != nil {
				t.Fatal(err)
			}
			if err := store.commit(b); err != nil {
				t.Fatal(err)
			}
			st.ClearJournal()
		}
	}
	// The least heap over a phase's last blocks: LevelDB's write buffer
	// fills and is flushed as blocks go, so one reading can catch it full.
	leastHeap := func(n int) uint64 {
		least := uint64(math.MaxUint64)
		for range n {
			blocks(1)
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			least = min(least, m.HeapAlloc)
		}
		return least
	}
	blocks(5)
	before := leastHeap(5)
	blocks(5)
	after := leastHeap(5)
	t.Logf("heap %d KiB at 100,000 accounts, %d KiB at 200,000", before>>10, after>>10)
	if after > before+4<<20 {
		t.Fatalf("100,000 more accounts grew the heap by %d KiB", (after-before)>>10)
	}
	if a, ok := st.Get(common.Address{}); !ok || a.Balance.Int64() != 1 {
		t.Fatalf("the first account reads %v, %v", a, ok)
	}
}
