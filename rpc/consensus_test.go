package rpc_test

import (
	"testing"

	ct "github.com/chaind/chaind/chain/chaintest"
)

// TestConsensusShowsTheEngineSection: chaind_consensus answers the common
// parameters and those the engine's genesis section describes, without
// the RPC server naming any engine.
func TestConsensusShowsTheEngineSection(t *testing.T) {
	n := newTestNode(t, nil)
	var out map[string]any
	n.call(&out, "chaind_consensus")
	if out["engine"] != ct.Consensus || out["param"] != float64(1) || out["blockTimeMs"] != float64(1000) || out["finality"] != "none (probabilistic)" {
		t.Fatalf("chaind_consensus = %v", out)
	}
}
