package testnet

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// finalityWatch polls every node's finalized block and fails the test if
// any node's finalized height ever decreases.
type finalityWatch struct {
	t    *testing.T
	s    *Supervisor
	last []int64
}

func newFinalityWatch(t *testing.T, s *Supervisor) *finalityWatch {
	return &finalityWatch{t: t, s: s, last: make([]int64, s.opts.Nodes)}
}

// heights polls and checks.
func (w *finalityWatch) heights() []int64 {
	w.t.Helper()
	now := finalizedHeights(w.s)
	for i, h := range now {
		if h >= 0 && h < w.last[i] {
			w.t.Fatalf("node %d's finalized block moved back from %d to %d", i, w.last[i], h)
		}
		w.last[i] = max(w.last[i], h)
	}
	return now
}

// slashedOn reports on how many live nodes v is slashed.
func slashedOn(s *Supervisor, v common.Address) int {
	count := 0
	for _, n := range s.Status(context.Background()) {
		if !n.Alive || n.Error != "" {
			continue
		}
		var vals []struct {
			Address common.Address `json:"address"`
			Slashed bool           `json:"slashed"`
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := rpc.NewClient(n.RPC).Call(ctx, &vals, "chaind_validators")
		cancel()
		for _, x := range vals {
			if err == nil && x.Address == v && x.Slashed {
				count++
			}
		}
	}
	return count
}

// finalizedAgree checks that every node has the same block at the lowest
// height any node finalized.
func finalizedAgree(t *testing.T, s *Supervisor, height int64) {
	t.Helper()
	var want common.Hash
	for i, n := range s.Status(context.Background()) {
		var b struct {
			Hash common.Hash `json:"hash"`
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := rpc.NewClient(n.RPC).Call(ctx, &b, "eth_getBlockByNumber", hexutil.Uint64(height), false)
		cancel()
		if err != nil {
			t.Fatalf("node %d: block %d: %v", i, height, err)
		}
		if i == 0 {
			want = b.Hash
		} else if b.Hash != want {
			t.Fatalf("node %d has %x at finalized height %d, node 0 %x", i, b.Hash, height, want)
		}
	}
}

// TestPoSByzantineValidatorSlashed: stakes 10,30,30,30, validator 0 runs
// --validator.byzantine equivocate+censor. Every node slashes it, finality
// keeps advancing on the honest 90%, and finalized blocks agree on every
// node and never move back.
func TestPoSByzantineValidatorSlashed(t *testing.T) {
	opts := posOptions()
	opts.Stakes = []int64{10, 30, 30, 30}
	opts.Byzantine = map[int]string{0: "equivocate+censor"}
	s := up(t, opts)
	w := newFinalityWatch(t, s)
	start := time.Now()
	poll.Until(t, epochs(30), "every node to slash validator 0", func() bool {
		w.heights()
		return slashedOn(s, s.coinbases[0]) == opts.Nodes
	})
	slashedAfter := time.Since(start)
	at := w.heights()
	poll.Until(t, epochs(16), "finality to advance after the slashing", func() bool { return minOf(w.heights(), nil) > maxOf(at) })
	fin := w.heights()
	finalizedAgree(t, s, minOf(fin, nil))
	if err := s.Down(); err != nil {
		t.Fatal(err)
	}
	rep, err := WriteReport(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if rep.FinalizedReverted != 0 {
		t.Fatalf("%d finalized blocks reverted", rep.FinalizedReverted)
	}
	t.Logf("validator 0 slashed on every node %.1f epochs after start; finalized heights %v then %v; finalized up to %d; time to finality %s",
		slashedAfter.Seconds()/epochs(1).Seconds(), at, fin, rep.FinalizedHeight, rep.TimeToFinality)
}

// TestPoSMinorityPartitionFinalizesNothing: stakes 40,30,20,10 split {0} |
// {1,2,3}: neither side has 2/3 (40% and 60%), so nothing new is finalized
// on either; finality resumes after the heal, and no finalized block moves
// back.
func TestPoSMinorityPartitionFinalizesNothing(t *testing.T) {
	opts := posOptions()
	opts.Stakes = []int64{40, 30, 20, 10}
	s := up(t, opts)
	w := newFinalityWatch(t, s)
	poll.Until(t, epochs(12), "every node to finalize", func() bool { return minOf(w.heights(), nil) > 0 })
	if err := s.Partition([][]int{{0}, {1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(epochs(1)) // votes already cast may still land
	before := w.heights()
	deadline := time.Now().Add(epochs(6))
	for time.Now().Before(deadline) {
		if now := w.heights(); maxOf(now) != maxOf(before) {
			t.Fatalf("a side finalized during the partition: %v -> %v", before, now)
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.Heal()
	poll.Until(t, epochs(20), "finality to resume after the heal", func() bool { return minOf(w.heights(), nil) > maxOf(before) })
	after := w.heights()
	finalizedAgree(t, s, minOf(after, nil))
	if err := s.Down(); err != nil {
		t.Fatal(err)
	}
	rep, err := WriteReport(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if rep.FinalizedReverted != 0 {
		t.Fatalf("%d finalized blocks reverted", rep.FinalizedReverted)
	}
	t.Logf("finalized %v before the split, unchanged for 6 epochs, %v after the heal; reorgs %v; time to finality %s",
		before, after, rep.ReorgDepths, rep.TimeToFinality)
}

// TestPoSTwinValidatorSlashed: stakes 10,30,30,30, validator 0's key also
// runs on node 1 (Options.Twins, the Byzantine behaviour twin). Transfers
// sent to node 1 make the two copies' pools differ, so in some slot of the
// key they sign different blocks: every node slashes the key, and
// finality keeps advancing on the honest 90%.
func TestPoSTwinValidatorSlashed(t *testing.T) {
	opts := posOptions()
	opts.Stakes = []int64{10, 30, 30, 30}
	opts.Byzantine = map[int]string{0: "twin"}
	opts.Twins = []int{0}
	s := up(t, opts)
	w := newFinalityWatch(t, s)
	signer := types.LatestSignerForChainID(new(big.Int).SetUint64(TestnetChainID))
	nonce := uint64(0)
	send := func() {
		tx, err := types.SignNewTx(s.funded, signer, &types.DynamicFeeTx{ChainID: new(big.Int).SetUint64(TestnetChainID), Nonce: nonce,
			GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(100e9), Gas: 21000, To: &common.Address{0x77}, Value: big.NewInt(1)})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tx.MarshalBinary()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if rpc.NewClient(s.Status(ctx)[1].RPC).Call(ctx, nil, "eth_sendRawTransaction", hexutil.Encode(raw)) == nil {
			nonce++
		}
	}
	poll.Until(t, epochs(40), "every node to slash validator 0", func() bool {
		send()
		w.heights()
		return slashedOn(s, s.coinbases[0]) == opts.Nodes
	})
	at := w.heights()
	poll.Until(t, epochs(16), "finality to advance after the slashing", func() bool { return minOf(w.heights(), nil) > maxOf(at) })
	finalizedAgree(t, s, minOf(w.heights(), nil))
	for _, v := range s.coinbases[1:] {
		if slashedOn(s, v) != 0 {
			t.Fatalf("honest validator %s slashed", v.Hex())
		}
	}
}

// twinSlashEpochs is how many epochs after the heal
// TestPoSTwinsFinalizingBothSidesAreSlashedAfterHeal allows for every node
// to slash both twins: 2.5 epochs for the blocks and votes of the other
// side to arrive (announced, fetched, refused for reverting the finalized
// checkpoint, and seen by the slasher on the way), one slot for the
// evidence, and an epoch for an honest proposer of the node's branch to
// include it, with room for a loaded machine.
const twinSlashEpochs = 12

// TestPoSTwinsFinalizingBothSidesAreSlashedAfterHeal: six nodes with stakes
// 30,10,30,10,10,10; validators 0 and 2 are twins (node 1 runs key 0 as
// well, node 3 key 2). The network is split from the start into nodes
// {0,2,4} (keys 0, 2, 4: 70% of the stake) and {1,3,5} (keys 1, 0, 3, 2,
// 5: 90%): each side finalizes its own branch. After the heal every node
// refuses the other side's blocks for reverting its finality, but its
// slasher sees their headers and votes, and within twinSlashEpochs epochs
// validators 0 and 2 (60% of the stake) are slashed on every node's chain,
// and no honest validator is.
//
// Each side refuses the other's blocks for reverting its finality and
// scores their sender, so the peers part soon after the heal; what each
// node learns of the other side's votes comes from the pooled votes and
// evidence a peer sends on connecting (without them it failed 2 runs in 7:
// one twin slashed on every node, the other on one side's nodes only).
func TestPoSTwinsFinalizingBothSidesAreSlashedAfterHeal(t *testing.T) {
	opts := posOptions()
	opts.Nodes = 6
	opts.Stakes = []int64{30, 10, 30, 10, 10, 10}
	opts.Byzantine = map[int]string{0: "twin", 2: "twin"}
	opts.Twins = []int{0, 2}
	// Split from genesis: a twin's double proposal that crossed before the
	// split would get both twins slashed on both sides before either
	// finalized (the side of nodes 0, 2 and 4 then holds a quarter of the
	// stake left).
	opts.Partition = [][]int{{0, 2, 4}, {1, 3, 5}}
	s := up(t, opts)
	w := newFinalityWatch(t, s)
	var fin []int64
	var height int64
	poll.Until(t, epochs(30), "the sides to finalize conflicting blocks", func() bool {
		fin = w.heights()
		height = minOf(fin, nil)
		return height > 0 && blockHashAt(t, s, 0, height) != blockHashAt(t, s, 1, height)
	})
	s.Heal()
	healed := time.Now()
	twins := []common.Address{s.coinbases[0], s.coinbases[2]}
	poll.Until(t, epochs(twinSlashEpochs), "every node to slash validators 0 and 2", func() bool {
		w.heights()
		return slashedOn(s, twins[0]) == opts.Nodes && slashedOn(s, twins[1]) == opts.Nodes
	})
	after := time.Since(healed)
	for i, v := range s.coinbases {
		if i != 0 && i != 2 && slashedOn(s, v) != 0 {
			t.Fatalf("honest validator %d slashed", i)
		}
	}
	t.Logf("finalized %v during the split (conflicting at height %d); validators 0 and 2 slashed on every node %.1f epochs after the heal",
		fin, height, after.Seconds()/epochs(1).Seconds())
}

// blockHashAt is node i's block at height.
func blockHashAt(t *testing.T, s *Supervisor, i int, height int64) common.Hash {
	t.Helper()
	var b struct {
		Hash common.Hash `json:"hash"`
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rpc.NewClient(s.Status(ctx)[i].RPC).Call(ctx, &b, "eth_getBlockByNumber", hexutil.Uint64(height), false); err != nil {
		t.Fatalf("node %d: block %d: %v", i, height, err)
	}
	return b.Hash
}
