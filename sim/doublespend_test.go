package sim

import (
	"math"
	"math/rand"
	"testing"

	"github.com/chaind/chaind/stats"
)

// Values from the literature: Nakamoto's table (q = 0.1 and 0.3) and
// Grunspan and Pérez-Marco's exact values.
func TestFormulasMatchPublishedValues(t *testing.T) {
	tests := []struct {
		q        float64
		z        int
		nakamoto float64
	}{
		{0.1, 0, 1.0}, {0.1, 1, 0.2045873}, {0.1, 2, 0.0509779}, {0.1, 5, 0.0009137}, {0.1, 10, 0.0000012},
		{0.3, 5, 0.1773523}, {0.3, 10, 0.0416605}, {0.3, 15, 0.0101008},
	}
	for _, tt := range tests {
		if got := Nakamoto(tt.q, tt.z); math.Abs(got-tt.nakamoto) > 5e-7 {
			t.Errorf("Nakamoto(%v, %d) = %.7f, paper says %.7f", tt.q, tt.z, got, tt.nakamoto)
		}
	}
	// Exact: z = 1 is 2q (the attacker is one behind after one honest block,
	// or level after one of its own: p*(q/p) + q = 2q), and the sum equals
	// Grunspan and Pérez-Marco's I_{4pq}(z, 1/2), integrated here directly.
	if got := Exact(0.1, 1); math.Abs(got-0.2) > 1e-12 {
		t.Errorf("Exact(0.1, 1) = %v, want 0.2", got)
	}
	for _, q := range []float64{0.1, 0.25, 0.3, 0.4} {
		for _, z := range []int{1, 2, 5, 10} {
			want := incompleteBeta(4*q*(1-q), float64(z), 0.5)
			if got := Exact(q, z); math.Abs(got-want) > 1e-6 {
				t.Errorf("Exact(%v, %d) = %.8f, I_4pq(z, 1/2) = %.8f", q, z, got, want)
			}
		}
	}
}

// incompleteBeta is the regularised incomplete beta function I_x(a, b) by
// midpoint integration of t^(a-1) (1-t)^(b-1) over [0, x].
func incompleteBeta(x, a, b float64) float64 {
	const n = 200_000
	sum := 0.0
	for i := 0; i < n; i++ {
		t := x * (float64(i) + 0.5) / n
		sum += math.Pow(t, a-1) * math.Pow(1-t, b-1)
	}
	lgA, _ := math.Lgamma(a)
	lgB, _ := math.Lgamma(b)
	lgAB, _ := math.Lgamma(a + b)
	return sum * x / n / math.Exp(lgA+lgB-lgAB)
}

// TestSimulationAgreesWithExact: for every (q, z) the CLI prints by default,
// an exact binomial test of the Monte-Carlo successes against the exact
// probability does not reject it at the 10^-4 level (22 tests: below 0.3%
// for the family). The test is exact, so it needs no allowance where the
// probability is tiny (q = 0.1, z = 10: 1.2e-6, a quarter of a success in
// 200,000 races). Its power: at z = 1 a simulation off by 2% of the value
// is rejected.
func TestSimulationAgreesWithExact(t *testing.T) {
	const level = 1e-4
	rng := rand.New(rand.NewSource(1))
	for _, q := range []float64{0.1, 0.3} {
		for z := 0; z <= 10; z++ {
			r, err := Simulate(q, z, 200_000, rng)
			if err != nil {
				t.Fatal(err)
			}
			if p := stats.BinomialPValue(r.Successes, r.Trials, r.Exact); p < level {
				t.Errorf("q=%v z=%d: %d of %d simulated (%.6f), exact %.6f: p-value %.2g", q, z, r.Successes, r.Trials, r.Simulated, r.Exact, p)
			}
		}
	}
	// The same test rejects a probability 2% off at z = 1 (q = 0.3: 0.6).
	r, _ := Simulate(0.3, 1, 200_000, rng)
	if p := stats.BinomialPValue(r.Successes, r.Trials, 0.98*r.Exact); p >= level {
		t.Errorf("the test cannot tell %.4f from %.4f (p-value %.2g)", r.Exact, 0.98*r.Exact, p)
	}
}
