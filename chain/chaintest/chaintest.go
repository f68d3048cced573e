package chaintest

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Engine accepts every header. A block's weight is its Bits field, or 1 when
// Bits is 0, so tests can make branches of chosen weight. It pays the block
// reward and takes no system calls.
type Engine struct{ chain.NoSystemCalls }

// InitGenesis adds nothing to the genesis block.
func (Engine) InitGenesis(*chain.Genesis, *chain.Header, *chain.State) {}

// Finalize pays the block reward to the producer.
func (Engine) Finalize(c chain.ChainReader, st *chain.State, h *chain.Header) error {
	st.Credit(h.Coinbase, c.Genesis().BlockReward.Big())
	return nil
}

var _ chain.Engine = Engine{}

// VerifyHeader accepts any header.
func (Engine) VerifyHeader(chain.ChainReader, *chain.Header, *chain.Header) error { return nil }

// Prepare leaves the header as it is.
func (Engine) Prepare(chain.ChainReader, *chain.Header, *chain.Header) error { return nil }

// Seal returns the block unchanged.
func (Engine) Seal(_ context.Context, _ chain.ChainReader, b *chain.Block) (*chain.Block, error) {
	return b, nil
}

// Weight is Bits, or 1.
func (Engine) Weight(h *chain.Header) *big.Int {
	if h.Bits == 0 {
		return big.NewInt(1)
	}
	return big.NewInt(int64(h.Bits))
}

// NewClock returns a simulated clock at t.
func NewClock(t time.Time) *clock.Sim { return clock.NewSim(t) }

// GenesisTime is the timestamp of Genesis chains.
var GenesisTime = time.UnixMilli(1_700_000_000_000)

// Key returns a deterministic test key.
func Key(i int) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(common.LeftPadBytes(big.NewInt(int64(i)+1000).Bytes(), 32))
	if err != nil {
		panic(err)
	}
	return k
}

// Addr is Key(i)'s address.
func Addr(i int) common.Address { return crypto.PubkeyToAddress(Key(i).PublicKey) }

// Ether is n * 10^18 wei.
func Ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18)) }

// Genesis returns a genesis of Consensus (tests pair it with Engine) that
// funds Key(0..funded-1) with 1000 ether each.
func Genesis(funded int) *chain.Genesis {
	g := &chain.Genesis{
		ChainID:   1337,
		Consensus: Consensus,
		Timestamp: uint64(GenesisTime.UnixMilli()),
		Alloc:     chain.Alloc{},
	}
	for i := 0; i < funded; i++ {
		g.Alloc[Addr(i)] = chain.GenesisAccount{Balance: chain.NewBigInt(Ether(1000))}
	}
	g.FillDefaults()
	return g
}

// NewChain opens a chain on an in-memory LevelDB with Engine and clock.
func NewChain(t testing.TB, g *chain.Genesis, clk *clock.Sim) *chain.Chain {
	t.Helper()
	return openChain(t, chain.OpenMemStore(), g, clk)
}

// NewChainOnDisk is NewChain on a LevelDB in a temporary directory, for
// benchmarks whose reads must go to files.
func NewChainOnDisk(t testing.TB, g *chain.Genesis, clk *clock.Sim) *chain.Chain {
	t.Helper()
	store, err := chain.OpenStore(t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return openChain(t, store, g, clk)
}

func openChain(t testing.TB, store *chain.Store, g *chain.Genesis, clk *clock.Sim) *chain.Chain {
	t.Helper()
	t.Cleanup(func() { store.Close() })
	c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: Engine{}, Clock: clk})
	if err != nil {
		t.Fatalf("open chain: %v", err)
	}
	return c
}

// Mine builds a block on c's head with txs, advancing clock by a second
// first, lets edit change it (nil: no change), inserts it and returns it.
func Mine(t testing.TB, c *chain.Chain, clk *clock.Sim, coinbase common.Address, txs []*types.Transaction, edit func(*chain.Block)) *chain.Block {
	t.Helper()
	clk.Advance(time.Second)
	b, err := c.BuildBlock(coinbase, txs)
	if err != nil {
		t.Fatalf("build block: %v", err)
	}
	if len(b.Txs) != len(txs) {
		t.Fatalf("build block: %d of %d transactions included", len(b.Txs), len(txs))
	}
	if edit != nil {
		edit(b)
	}
	if err := c.InsertBlock(b); err != nil {
		t.Fatalf("insert block %d: %v", b.Height(), err)
	}
	return b
}

// Transfer signs an EIP-1559 transfer from Key(from) with a 1 gwei tip.
func Transfer(g *chain.Genesis, from int, nonce uint64, to common.Address, value *big.Int) *types.Transaction {
	return Sign(g, from, &types.DynamicFeeTx{
		ChainID: new(big.Int).SetUint64(g.ChainID), Nonce: nonce, GasTipCap: big.NewInt(1e9),
		GasFeeCap: big.NewInt(3e9), Gas: chain.TransferGas, To: &to, Value: value,
	})
}

// Sign signs data with Key(from) for g's chain.
func Sign(g *chain.Genesis, from int, data types.TxData) *types.Transaction {
	tx, err := types.SignNewTx(Key(from), g.Signer(), data)
	if err != nil {
		panic(err)
	}
	return tx
}
