package loadgen

import (
	"path/filepath"
	"testing"

	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/engines/enginestest"
	"github.com/chaind/chaind/pos"
	"github.com/ethereum/go-ethereum/common"
)

// TestNodeGenesisAsBefore: StartNode's genesis, now built through
// engines.Genesis, is the one the loadgen before engine sections wrote
// (testdata/flat-genesis), given what was random or measured then: the
// PoS validator's address, the measured hash rate and the time.
func TestNodeGenesisAsBefore(t *testing.T) {
	for _, consensus := range []string{"pow", "pos"} {
		want := enginestest.ReadFlat(t, filepath.Join("testdata", "flat-genesis", "loadgen-"+consensus+".json"))
		e, err := engines.Lookup(consensus)
		if err != nil {
			t.Fatal(err)
		}
		var spec engines.Spec
		if c := pos.Section(want); c != nil {
			spec = nodeSpec(e, nil, c.Validators[0].Address, 0, want.Timestamp)
		} else {
			spec = nodeSpec(e, nil, common.Address{}, engines.Hashrate(want), want.Timestamp)
		}
		g, err := engines.Genesis(spec)
		if err != nil {
			t.Fatal(err)
		}
		enginestest.SameGenesis(t, g, want)
	}
}
