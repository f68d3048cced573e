package testnet

import (
	"testing"
)

// TestAttackRaces runs a few live double-spend races: each ends with the
// attacker's private branch released (won) or abandoned (lost), the nodes
// converge afterwards, and the measured share of hash power is sensible.
func TestAttackRaces(t *testing.T) {
	if testing.Short() {
		t.Skip("runs live races")
	}
	res, err := Attack(AttackOptions{Dir: t.TempDir(), Trials: 4, Binary: chaindBin, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Trials != 4 || res.Share <= 0.05 || res.Share >= 0.5 {
		t.Fatalf("%+v", res)
	}
	t.Logf("share %.3f: %d of %d won; exact for z+1 = %.3f", res.Share, res.Successes, res.Trials, res.Exact)
}
