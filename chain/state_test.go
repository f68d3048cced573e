package chain

import (
	"crypto/sha256"
	"math/big"
	"runtime"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// fullTreeRoot computes the account tree's root from its definition: every
// bucket hashed, every inner node over its two children.
func fullTreeRoot(s *State) common.Hash {
	var buckets [numBuckets][]common.Address
	for addr := range s.accounts {
		b := bucketOf(accountKey(addr))
		buckets[b] = append(buckets[b], addr)
	}
	var nodes [2 * numBuckets]common.Hash
	for b, addrs := range buckets {
		slices.SortFunc(addrs, func(x, y common.Address) int { return x.Cmp(y) })
		var buf []byte
		for _, a := range addrs {
			buf = s.accounts[a].appendLeaf(buf, a)
		}
		nodes[numBuckets+b] = sha256.Sum256(buf)
	}
	for i := numBuckets - 1; i >= 1; i-- {
		nodes[i] = hashPair(nodes[2*i], nodes[2*i+1])
	}
	return hashPair(nodes[1], emptyTreeRoot())
}

// TestStateRootMatchesTheFullTree grows a state from a few accounts, whose
// tree holds only its non-empty nodes, past the point where it holds them
// all, and back by a revert; its root, and a copy's, is the full tree's at
// every step.
func TestStateRootMatchesTheFullTree(t *testing.T) {
	st := NewState()
	check := func(when string) {
		t.Helper()
		want := fullTreeRoot(st)
		if got := st.Root(); got != want {
			t.Fatalf("%s: root %x, the full tree's %x", when, got, want)
		}
		if got := st.Copy().Root(); got != want {
			t.Fatalf("%s: a copy's root %x, the full tree's %x", when, got, want)
		}
	}
	check("empty")
	var mark Mark
	for i := range 3000 {
		addr := common.BytesToAddress(crypto.Keccak256(big.NewInt(int64(i)).Bytes()))
		st.Credit(addr, big.NewInt(int64(i+1)))
		switch i + 1 {
		case 1, 10, 100:
			check("sparse")
		case 200:
			if st.tree.dense != nil {
				t.Fatal("200 accounts: the tree holds every node")
			}
			check("sparse")
			mark = st.Mark()
		case 1000, 3000:
			check("dense")
			if st.tree.dense == nil {
				t.Fatalf("%d accounts: the tree holds only its non-empty nodes", i+1)
			}
		}
	}
	st.RevertTo(mark)
	check("reverted to 200 accounts")
}

// TestSmallStateCostsWhatItHolds checks that a state of a few accounts (a
// simulated node's, a test's) does not allocate the whole tree (8,192 hashes
// and 4,096 buckets: 352 KB).
func TestSmallStateCostsWhatItHolds(t *testing.T) {
	const states = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	kept := make([]*State, states)
	for i := range kept {
		st := NewState()
		for a := range 10 {
			st.Credit(common.BytesToAddress(crypto.Keccak256([]byte{byte(i), byte(a)})), big.NewInt(1))
		}
		st.Root()
		kept[i] = st
	}
	runtime.ReadMemStats(&after)
	if perState := (after.TotalAlloc - before.TotalAlloc) / states; perState > 64<<10 {
		t.Fatalf("a state of 10 accounts allocates %d bytes, want at most 64 KiB", perState)
	}
	runtime.KeepAlive(kept)
}
