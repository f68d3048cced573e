package netsim

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/chaind/chaind/engines/enginestest"
)

// TestSimGenesisAsBefore: the simulator's genesis, now built through
// engines.Genesis, is the one the simulator before engine sections built
// for the same configurations (testdata/flat-genesis): PoW with and
// without transactions, PoS with stakes, and PoS without finality with more
// validators than nodes.
func TestSimGenesisAsBefore(t *testing.T) {
	for name, cfg := range map[string]Config{
		"netsim-pow":    {Nodes: 4, Peers: 3, Blocks: 10, BlockTime: 10 * time.Second, Seed: 1},
		"netsim-pow-tx": {Nodes: 4, Peers: 3, Blocks: 10, BlockTime: 2 * time.Second, HalfLife: time.Minute, TxRate: 5, BlockSize: 10000, Seed: 1},
		"netsim-pos":    {Nodes: 4, Peers: 3, Blocks: 10, BlockTime: time.Second, Consensus: "pos", EpochLength: 4, Stakes: []float64{1, 2, 3, 4}, Seed: 1},
		"netsim-pos-nf": {Nodes: 6, Peers: 3, Blocks: 10, BlockTime: 2 * time.Second, Consensus: "pos", EpochLength: 8, NoFinality: true, TxRate: 3, BlockSize: 5000, Validators: 7, Seed: 1},
	} {
		cfg.Network = mustNetwork(t, "const:100ms")
		if err := cfg.check(); err != nil {
			t.Fatal(name, err)
		}
		s, err := newSim(cfg)
		if err != nil {
			t.Fatal(name, err)
		}
		enginestest.SameGenesis(t, s.genesis, enginestest.ReadFlat(t, filepath.Join("testdata", "flat-genesis", name+".json")))
		s.close()
	}
}
