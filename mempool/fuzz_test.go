package mempool_test

import (
	"math/big"
	"testing"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/mempool"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// FuzzRawTransaction feeds raw transaction bytes (eth_sendRawTransaction,
// gossip) to a pool on a real chain: each is admitted or refused with an
// error, never a panic, and an admitted one is findable by its hash.
func FuzzRawTransaction(f *testing.F) {
	g := ct.Genesis(1)
	for _, tx := range []*types.Transaction{
		ct.Transfer(g, 0, 0, common.Address{0x77}, big.NewInt(1)),
		ct.Sign(g, 0, &types.LegacyTx{Nonce: 1, GasPrice: big.NewInt(2e9), Gas: 21000, To: &common.Address{1}, Value: big.NewInt(1)}),
	} {
		raw, _ := tx.MarshalBinary()
		f.Add(raw)
	}
	f.Add([]byte{0x02, 0xc0})
	c := ct.NewChain(f, g, ct.NewClock(ct.GenesisTime))
	p := mempool.New(mempool.Config{Chain: c})
	f.Fuzz(func(t *testing.T, raw []byte) {
		tx := new(types.Transaction)
		if tx.UnmarshalBinary(raw) != nil {
			return
		}
		if p.Add(tx) == nil && p.Get(tx.Hash()) == nil {
			t.Fatalf("admitted %x but cannot find it", tx.Hash())
		}
	})
}
