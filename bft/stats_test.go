package bft

import (
	"fmt"
	"strings"

	"github.com/chaind/chaind/stats"
)

// roundStats is the distribution of commit rounds after GST: of heights
// that started after GST by their commit round, and of heights in progress
// at GST by how many rounds past the highest honest round at GST they
// committed.
type roundStats struct {
	fresh, started map[Round]int
	maxFresh       Round
	maxStarted     Round
	bounds         map[Round]int // the bounds roundBound gave, counted
}

func (s *roundStats) add(cs []commitRound) {
	if s.fresh == nil {
		s.fresh, s.started, s.bounds = map[Round]int{}, map[Round]int{}, map[Round]int{}
	}
	for _, c := range cs {
		s.bounds[c.Bound]++
		if c.Started {
			d := max(c.Round-c.AtGST, 0)
			s.started[d]++
			s.maxStarted = max(s.maxStarted, d)
			continue
		}
		s.fresh[c.Round]++
		s.maxFresh = max(s.maxFresh, c.Round)
	}
}

func histogram(name string, h map[Round]int, top Round) string {
	n := 0
	for _, c := range h {
		n += c
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d heights", name, n)
	if n == 0 {
		return b.String()
	}
	for r := Round(0); r <= top; r++ {
		if h[r] == 0 {
			continue
		}
		lo, hi := stats.ClopperPearson(h[r], n, 0.05)
		fmt.Fprintf(&b, "; round %d: %d (%.1f%%, 95%% CI %.1f-%.1f%%)", r, h[r], 100*float64(h[r])/float64(n), 100*lo, 100*hi)
	}
	fmt.Fprintf(&b, "; max %d", top)
	return b.String()
}

func (s roundStats) String() string {
	lo, hi, n, sum := Round(-1), Round(0), 0, 0
	for b, c := range s.bounds {
		if lo < 0 || b < lo {
			lo = b
		}
		hi = max(hi, b)
		n += c
		sum += c * int(b)
	}
	mean := 0.0
	if n > 0 {
		mean = float64(sum) / float64(n)
	}
	return histogram("heights started after GST by commit round", s.fresh, s.maxFresh) + "\n" +
		histogram("heights in progress at GST by rounds past the highest honest round at GST", s.started, s.maxStarted) + "\n" +
		fmt.Sprintf("liveness bound (round): min %d, mean %.1f, max %d over %d heights", lo, mean, hi, n)
}
