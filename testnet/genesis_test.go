package testnet

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/engines/enginestest"
	"github.com/chaind/chaind/pos"
	"github.com/ethereum/go-ethereum/common"
)

// TestTestnetGenesisAsBefore: a new testnet's genesis, now built through
// engines.Genesis, is the one the supervisor before engine sections wrote
// for the same options (testdata/flat-genesis: three PoS validators with
// stakes and no finality; two PoW miners at 1000 nonces/s), given what was
// random then: the funded account, the validators' keys and the time.
func TestTestnetGenesisAsBefore(t *testing.T) {
	for name, opts := range map[string]Options{
		"testnet-pos": {Nodes: 3, Consensus: "pos", Stakes: []int64{32, 64, 96}, EpochLength: 4, NoFinality: true, BlockTime: 2 * time.Second},
		"testnet-pow": {Nodes: 2, Consensus: "pow", Hashrate: 1000, BlockTime: 3 * time.Second, EpochLength: 8}, // as testnet up passes its flag's default
	} {
		want := enginestest.ReadFlat(t, filepath.Join("testdata", "flat-genesis", name+".json"))
		opts.Dir = t.TempDir()
		if err := opts.normalise(); err != nil {
			t.Fatal(err)
		}
		s := &Supervisor{opts: opts}
		if c := pos.Section(want); c != nil {
			for _, v := range c.Validators {
				s.coinbases = append(s.coinbases, v.Address)
			}
		}
		g, err := s.newGenesis(fundedAccount(want), want.Timestamp)
		if err != nil {
			t.Fatal(name, err)
		}
		enginestest.SameGenesis(t, g, want)
	}
}

// fundedAccount is the account a testnet genesis funds with a million ether.
func fundedAccount(g *chain.Genesis) common.Address {
	for addr, acc := range g.Alloc {
		if acc.Balance.Big().Cmp(engines.Ether(1e6)) == 0 {
			return addr
		}
	}
	return common.Address{}
}
