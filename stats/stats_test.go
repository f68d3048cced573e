package stats

import (
	"math"
	"math/rand"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// Published values: Clopper and Pearson's closed forms at k = 0 and k = n, Garwood's Poisson limits, and
// the binomial and chi-square tables.
func TestKnownValues(t *testing.T) {
	if b := Binomial(0, 50); b.Lo != 0 || !near(b.Hi, 1-math.Pow(0.025, 1.0/50), 1e-9) {
		t.Errorf("Binomial(0, 50) = [%v, %v], want [0, 0.0711]", b.Lo, b.Hi)
	}
	if b := Binomial(0, 0); b.Lo != 0 || b.Hi != 1 || b.P != 0 {
		t.Errorf("Binomial(0, 0) = %+v, want [0, 1]", b)
	}
	if lo, hi := ClopperPearson(0, 10, 0.05); lo != 0 || !near(hi, 1-math.Pow(0.025, 0.1), 1e-9) {
		t.Errorf("ClopperPearson(0, 10) = [%v, %v], want [0, 1-0.025^(1/10)]", lo, hi)
	}
	if lo, hi := ClopperPearson(10, 10, 0.05); !near(lo, math.Pow(0.025, 0.1), 1e-9) || hi != 1 {
		t.Errorf("ClopperPearson(10, 10) = [%v, %v], want [0.025^(1/10), 1]", lo, hi)
	}
	if lo, hi := ClopperPearson(5, 10, 0.05); !near(lo, 0.1871, 1e-4) || !near(hi, 0.8129, 1e-4) {
		t.Errorf("ClopperPearson(5, 10) = [%.4f, %.4f], want [0.1871, 0.8129]", lo, hi)
	}
	if p := BinomialPValue(8, 10, 0.5); !near(p, 2*56.0/1024, 1e-12) {
		t.Errorf("BinomialPValue(8, 10, 0.5) = %v, want %v", p, 2*56.0/1024)
	}
	if p := BinomialPValue(5, 10, 0.5); p != 1 {
		t.Errorf("BinomialPValue(5, 10, 0.5) = %v, want 1", p)
	}
	if r := PoissonRate(0, 1); r.Lo != 0 || !near(r.Hi, 3.6889, 1e-4) {
		t.Errorf("PoissonRate(0, 1) = [%v, %v], want [0, 3.6889]", r.Lo, r.Hi)
	}
	if r := PoissonRate(10, 2); !near(r.Lo, 4.7954/2, 1e-4) || !near(r.Hi, 18.3904/2, 1e-4) {
		t.Errorf("PoissonRate(10, 2) = [%v, %v], want [2.3977, 9.1952]", r.Lo, r.Hi)
	}
	if d := Detectable(0.5, 100, 0.05, 0.8); !near(d, (1.959964+0.841621)*0.05, 1e-6) {
		t.Errorf("Detectable(0.5, 100) = %v, want 0.1401", d)
	}
	stat, p := ChiSquare([]int{30, 30, 20, 20}, []float64{0.25, 0.25, 0.25, 0.25})
	if !near(stat, 4, 1e-12) || !near(p, 0.2615, 1e-4) {
		t.Errorf("ChiSquare = %v (p %v), want 4 (p 0.2615)", stat, p)
	}
}

// TestIntervalsCover checks by simulation (seeded) that the 95% interval
// holds the true value at least 95% of the time where it is used: small
// rates and a few hundred trials.
func TestIntervalsCover(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	const sims = 20_000
	for _, c := range []struct {
		p float64
		n int
	}{{0.02, 200}, {0.1, 100}, {0.3, 60}} {
		exact := 0
		for range sims {
			k := 0
			for range c.n {
				if rng.Float64() < c.p {
					k++
				}
			}
			if b := Binomial(k, c.n); b.Lo <= c.p && c.p <= b.Hi {
				exact++
			}
		}
		cover := float64(exact) / sims
		t.Logf("p %.2f, n %d: the exact interval covers %.4f", c.p, c.n, cover)
		// At least 95% by construction; 0.945 leaves 3 simulation
		// standard errors (0.0015 each).
		if cover < 0.945 {
			t.Errorf("p %.2f, n %d: coverage %.4f", c.p, c.n, cover)
		}
	}
}
