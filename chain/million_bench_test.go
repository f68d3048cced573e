package chain_test

import (
	"crypto/ecdsa"
	"encoding/binary"
	"math/big"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// millionAccounts is the number of accounts BenchmarkMillionAccounts
// creates, millionPerBlock the transfers of each block (one per sender).
const (
	millionAccounts = 1_000_000
	millionPerBlock = 1000
)

// newAccount is the i-th address BenchmarkMillionAccounts funds, spread over
// the address space.
func newAccount(i int) common.Address {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(i))
	return common.BytesToAddress(crypto.Keccak256(n[:])[12:])
}

// BenchmarkMillionAccounts grows a chain on disk to 1,000,000 funded
// accounts: 1,000 blocks of 1,000 transfers, each to a new address. Each
// block is built on the chain's head, then re-decoded from its wire
// encoding (no sender cached) and imported as a peer's block would be; only
// the imports are timed. It reports the import rate, the process's peak RSS
// (run it alone, -benchtime 1x: the blocks are not kept), and the time of
// reading 2,000 of the new accounts at the height that created them and at
// the head, in turns, with their ratio.
func BenchmarkMillionAccounts(b *testing.B) {
	g := ct.Genesis(millionPerBlock)
	clk := ct.NewClock(ct.GenesisTime)
	c := ct.NewChainOnDisk(b, g, clk)
	keys := make([]*ecdsa.PrivateKey, millionPerBlock) // ct.Transfer derives its key's public half each time
	for k := range keys {
		keys[k] = ct.Key(k)
	}
	signer := g.Signer()
	var imported time.Duration
	for i := range millionAccounts / millionPerBlock {
		txs := make([]*types.Transaction, millionPerBlock)
		for k := range txs {
			to := newAccount(i*millionPerBlock + k)
			txs[k] = types.MustSignNewTx(keys[k], signer, &types.DynamicFeeTx{
				ChainID: new(big.Int).SetUint64(g.ChainID), Nonce: uint64(i), GasTipCap: big.NewInt(1e9),
				GasFeeCap: big.NewInt(3e9), Gas: chain.TransferGas, To: &to, Value: big.NewInt(1),
			})
		}
		clk.Advance(time.Second)
		built, err := c.BuildBlock(common.Address{0xc0}, txs)
		if err != nil || len(built.Txs) != len(txs) {
			b.Fatalf("build block %d: %v", i+1, err)
		}
		enc, err := built.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		blk := new(chain.Block)
		if err := blk.UnmarshalBinary(enc); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := c.InsertBlock(blk); err != nil {
			b.Fatal(err)
		}
		imported += time.Since(t0)
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(millionAccounts)/imported.Seconds(), "tx/s")
	b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")

	head := c.Head().Height()
	r := rand.New(rand.NewPCG(29, 3))
	var took [2]time.Duration // at the creating height, at the head
	for range 2000 {
		i := r.IntN(millionAccounts)
		addr := newAccount(i)
		for k, height := range []uint64{uint64(i/millionPerBlock) + 1, head} {
			t0 := time.Now()
			a, err := c.AccountAt(addr, height)
			took[k] += time.Since(t0)
			if err != nil || a.Balance.Int64() != 1 {
				b.Fatalf("account %d at block %d: %v, %v", i, height, a, err)
			}
		}
	}
	b.ReportMetric(float64(took[0].Nanoseconds())/2000, "ns-old")
	b.ReportMetric(float64(took[1].Nanoseconds())/2000, "ns-head")
	b.ReportMetric(float64(took[0])/float64(took[1]), "old/head")
}
