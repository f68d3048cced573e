package netsim

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// TestTransactionsAreIncludedAtBlockScale sends transactions at random
// nodes of a healthy network, with both relays, and checks that
//   - every transaction sent more than five block intervals before the end
//     is in a block of the final chain (an exact count: none missing);
//   - the mean time from arrival to inclusion is the block interval T: with
//     blocks found as a Poisson process, the wait from any instant to the
//     next block is exponential with mean T (plus the few hundred
//     milliseconds the transaction takes to reach the miners). Waits of
//     transactions that share a block are correlated, so the allowance is
//     four standard errors of a mean over the blocks, T/sqrt(blocks);
//   - the same seed gives the same report (checked with announce).
func TestTransactionsAreIncludedAtBlockScale(t *testing.T) {
	for _, relay := range []Relay{RelayPush, RelayAnnounce} {
		cfg := Config{Nodes: 6, Peers: 3, BlockTime: 10 * time.Second, Blocks: 80, BlockSize: 20_000,
			Network: mustNetwork(t, "lognormal:100ms,0.5"), TxRate: 1.5, Relay: relay, Seed: 21}
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		rep, rec := res.Report, res.Records
		if !rep.HeadsAgree {
			t.Fatalf("%v: nodes ended on different heads", relay)
		}
		cutoff := rec.EndMs - 5*cfg.BlockTime.Milliseconds()
		var sum float64
		counted, missing, blocks := 0, 0, map[uint64]bool{}
		for _, tx := range rec.Txs {
			if tx.SentMs >= cutoff {
				continue
			}
			if tx.Block == nil {
				missing++
				continue
			}
			found := int64(math.MaxInt64)
			for _, at := range rec.Blocks[*tx.Block].SeenMs {
				found = min(found, at)
			}
			sum += float64(found - tx.SentMs)
			counted++
			blocks[tx.Height] = true
		}
		if missing > 0 || counted < 800 {
			t.Fatalf("%v: %d transactions included, %d missing (want none missing, at least 800 included)", relay, counted, missing)
		}
		T := rep.ProductionIntervalMs
		mean := sum / float64(counted)
		tol := 4 * T / math.Sqrt(float64(len(blocks)))
		t.Logf("%v: %d sent, %d included (before the cutoff %d of %d); mean wait %.0f ms, T %.0f ms, allowance %.0f ms; k=1 %v, k=6 %v",
			relay, rep.TxsSent, rep.TxsMined, counted, counted+missing, mean, T, tol, rep.Confirmations[1], rep.Confirmations[6])
		if math.Abs(mean-T) > tol+500 {
			t.Errorf("%v: mean wait for inclusion %.0f ms, the block interval %.0f ms: more than %.0f ms apart", relay, mean, T, tol+500)
		}
		if relay == RelayPush {
			continue // one determinism check is enough
		}
		again, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		ja, _ := json.Marshal(rep)
		jb, _ := json.Marshal(again.Report)
		if string(ja) != string(jb) {
			t.Fatalf("%v: same seed, different reports", relay)
		}
	}
}
