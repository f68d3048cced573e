package node_test

import (
	"context"
	"math/big"
	"math/rand"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/pos"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestJunkSystemCallsRefusedAtIntake: 3,000 calls of 30 KB of junk to the
// PoS system address, each a well-formed, funded and signed transaction,
// would never execute in a block, so they would never pay. The node refuses
// every one at intake with the reason, its pool holds none and its heap
// does not grow by the 90 MB sent.
func TestJunkSystemCallsRefusedAtIntake(t *testing.T) {
	n, g, key, _ := startPoSDevNode(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ec, err := ethclient.DialContext(ctx, n.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	chainID := new(big.Int).SetUint64(g.ChainID)
	rng := rand.New(rand.NewSource(23))
	targets := []common.Address{pos.StakingAddress}
	const calls, size = 3000, 30 << 10
	before := heapInUse()
	for i := range calls {
		junk := make([]byte, size)
		rng.Read(junk)
		to := targets[i%len(targets)]
		tx := signTx(t, key, chainID, &types.DynamicFeeTx{ChainID: chainID, Nonce: uint64(i), GasTipCap: big.NewInt(1e9),
			GasFeeCap: new(big.Int).Add(g.BaseFee.Big(), big.NewInt(1e9)), Gas: 21000, To: &to, Data: junk})
		err := ec.SendTransaction(ctx, tx)
		if err == nil || !strings.Contains(err.Error(), "call would fail in a block") {
			t.Fatalf("junk call %d to %s: %v", i, to.Hex(), err)
		}
	}
	pending, queued := n.Pool().Content()
	if from := crypto.PubkeyToAddress(key.PublicKey); len(pending[from])+len(queued[from]) != 0 {
		t.Fatalf("%d junk calls in the pool", len(pending[from])+len(queued[from]))
	}
	after := heapInUse()
	t.Logf("heap in use %.1f MiB before, %.1f MiB after %d junk calls of %d KiB", float64(before)/(1<<20), float64(after)/(1<<20), calls, size>>10)
	if after > before+16<<20 {
		t.Fatalf("the heap grew from %d to %d bytes", before, after)
	}
}
