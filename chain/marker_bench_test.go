package chain

import (
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// BenchmarkHeadMarker imports empty blocks, alternately, into two chains on
// disk, one of which writes no head marker, and reports the time per block
// of each and their ratio: what the marker's extra fsync costs an import
// whose own LevelDB batch is synced anyway.
func BenchmarkHeadMarker(b *testing.B) {
	var chains [2]*Chain
	for i := range chains {
		s, c, err := openTestChain(b, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		chains[i] = c
	}
	unmarked := chains[1].store
	unmarked.marker.close()
	unmarked.marker = nil
	var took [2]time.Duration
	for b.Loop() {
		for i, c := range chains {
			blk, err := c.BuildBlock(common.Address{2}, nil)
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			if err := c.InsertBlock(blk); err != nil {
				b.Fatal(err)
			}
			took[i] += time.Since(t0)
		}
	}
	b.ReportMetric(float64(took[0].Nanoseconds())/float64(b.N), "ns/block-marked")
	b.ReportMetric(float64(took[1].Nanoseconds())/float64(b.N), "ns/block-unmarked")
	b.ReportMetric(float64(took[0])/float64(took[1]), "marked/unmarked")
}
