package main

import (
	"context"
	"math/big"
	"math/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/pow"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

func writeFastGenesis(t *testing.T, dir string, funded int) (*chain.Genesis, string) {
	t.Helper()
	g := &chain.Genesis{
		ChainID: 1337, Consensus: chain.ConsensusPoW,
		BlockTime: chain.Duration(100 * time.Millisecond),
		Engine:    &pow.GenesisConfig{HalfLife: chain.Duration(time.Second), Difficulty: chain.NewBigInt(big.NewInt(10_000))},
		Timestamp: uint64(time.Now().UnixMilli()),
		Alloc:     chain.Alloc{},
	}
	for i := 0; i < funded; i++ {
		g.Alloc[ct.Addr(i)] = chain.GenesisAccount{Balance: chain.NewBigInt(ct.Ether(1000))}
	}
	g.FillDefaults()
	path := filepath.Join(dir, "genesis.json")
	if err := g.Write(path); err != nil {
		t.Fatal(err)
	}
	return g, path
}

// TestCrashSafety kills a mining node that is taking transactions with
// SIGKILL at random moments, and checks after each kill that the data
// directory opens, that its head state equals a replay from genesis, and that
// every block the node had reported is still there.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node process through 10 kills")
	}
	dir := t.TempDir()
	datadir := filepath.Join(dir, "node")
	g, genesis := writeFastGenesis(t, dir, 1)
	rng := rand.New(rand.NewSource(42))
	reported := map[common.Hash]uint64{}
	const kills = 10
	for round := 0; round < kills; round++ {
		p := startChaind(t, "node", "--datadir", datadir, "--genesis", genesis, "--rpc.addr", "127.0.0.1:0",
			"--mine", "--miner.threads", "1", "--miner.coinbase", "0x00000000000000000000000000000000000000c0", "--log.level", "warn")
		c := p.client()
		ctx, cancel := context.WithCancel(context.Background())
		for hash, height := range reported {
			var b map[string]any
			if err := c.Call(ctx, &b, "eth_getBlockByHash", hash, false); err != nil || b == nil {
				t.Fatalf("round %d: block %d (%s) reported before the kill is gone (%v)", round, height, hash.Hex(), err)
			}
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { // report heads, as a client watching the node would
			defer wg.Done()
			for ctx.Err() == nil {
				var head struct {
					Number hexutil.Uint64 `json:"number"`
					Hash   common.Hash    `json:"hash"`
				}
				if err := c.Call(ctx, &head, "chaind_head"); err == nil {
					mu.Lock()
					reported[head.Hash] = uint64(head.Number)
					mu.Unlock()
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
		go func() { // keep sending transfers
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				var nonce hexutil.Uint64
				if err := c.Call(ctx, &nonce, "eth_getTransactionCount", ct.Addr(0), "pending"); err != nil {
					continue
				}
				tx := ct.Transfer(g, 0, uint64(nonce), common.Address{byte(i), 1}, big.NewInt(int64(i+1)))
				raw, _ := tx.MarshalBinary()
				c.Call(ctx, nil, "eth_sendRawTransaction", hexutil.Bytes(raw))
				time.Sleep(time.Duration(rng.Intn(5)) * time.Millisecond)
			}
		}()
		time.Sleep(time.Duration(300+rng.Intn(900)) * time.Millisecond)
		p.kill() // SIGKILL, mid-whatever
		cancel()
		wg.Wait()

		out, err := runChaind(t, "verify", "--datadir", datadir)
		if err != nil || !strings.HasPrefix(out, "ok:") {
			t.Fatalf("round %d: verify after SIGKILL: %v\n%s", round, err, out)
		}
	}
	var maxHeight uint64
	for _, h := range reported {
		maxHeight = max(maxHeight, h)
	}
	if maxHeight < kills {
		t.Fatalf("only reached height %d in %d rounds: the node barely mined", maxHeight, kills)
	}
	p := startChaind(t, "node", "--datadir", datadir, "--rpc.addr", "127.0.0.1:0", "--log.level", "warn")
	var mined hexutil.Uint64
	if err := p.client().Call(context.Background(), &mined, "eth_getTransactionCount", ct.Addr(0), "latest"); err != nil || mined == 0 {
		t.Fatalf("no transfer was mined across the rounds (%v)", err)
	}
	t.Logf("%d kills; %d transfers mined; %d distinct heads reported, up to height %d", kills, mined, len(reported), maxHeight)
}

// writeInstantGenesis writes a PoW genesis at difficulty 1 with a 1 ms
// target: a node mines blocks as fast as it can build and store them.
func writeInstantGenesis(t *testing.T, dir string) string {
	t.Helper()
	g := &chain.Genesis{ChainID: 1337, Consensus: chain.ConsensusPoW, BlockTime: chain.Duration(time.Millisecond),
		Engine: &pow.GenesisConfig{HalfLife: chain.Duration(time.Second), Difficulty: chain.NewBigInt(big.NewInt(1))}, Timestamp: uint64(time.Now().UnixMilli())}
	g.FillDefaults()
	path := filepath.Join(dir, "genesis.json")
	if err := g.Write(path); err != nil {
		t.Fatal(err)
	}
	return path
}
