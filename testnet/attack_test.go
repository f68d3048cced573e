package testnet

import (
	"testing"

	"github.com/chaind/chaind/stats"
)

// TestAttackRaces runs a few live double-spend races: each ends with the
// attacker's private branch released (won) or abandoned (lost), the nodes
// converge afterwards, and the attacker's share of the blocks is what its
// declared hash power gives: an exact binomial test at the 10^-4 level (a
// handful of races is a few dozen blocks, so a fixed band on the measured
// share would fail by chance now and then).
func TestAttackRaces(t *testing.T) {
	if testing.Short() {
		t.Skip("runs live races")
	}
	res, err := Attack(AttackOptions{Dir: t.TempDir(), Trials: 4, Binary: chaindBin, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Trials != 4 || res.Blocks.N == 0 {
		t.Fatalf("%+v", res)
	}
	if p := stats.BinomialPValue(res.Blocks.K, res.Blocks.N, res.GivenShare); p < 1e-4 {
		t.Fatalf("attacker mined %d of %d blocks with a share of %.2f: p = %.2g", res.Blocks.K, res.Blocks.N, res.GivenShare, p)
	}
	t.Logf("share %.3f: %d of %d won; exact for z+1 = %.3f", res.Share, res.Successes, res.Trials, res.Exact)
}
