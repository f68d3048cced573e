package stats

import (
	"math"
	"math/rand"
	"testing"
)

// Fisher's tea-tasting table and a table at the edge, whose p-values are
// in every textbook (and R's fisher.test): 34/70 and 2/C(20,10).
func TestFisherExactKnownValues(t *testing.T) {
	if p := FisherExact(3, 4, 1, 4); !near(p, 34.0/70, 1e-12) {
		t.Errorf("FisherExact(3/4, 1/4) = %v, want 34/70", p)
	}
	if p := FisherExact(0, 10, 10, 10); !near(p, 2.0/184756, 1e-15) {
		t.Errorf("FisherExact(0/10, 10/10) = %v, want 2/184756", p)
	}
	if p := FisherExact(5, 50, 50, 500); !near(p, 1, 1e-9) {
		t.Errorf("equal proportions: p = %v, want 1", p)
	}
	if a, b := FisherExact(7, 40, 30, 400), FisherExact(30, 400, 7, 40); !near(a, b, 1e-12) {
		t.Errorf("not symmetric: %v and %v", a, b)
	}
	if p := FisherExact(3, 2, 0, 5); !math.IsNaN(p) {
		t.Errorf("3 of 2: p = %v, want NaN", p)
	}
}

// TestFisherExactIsCalibrated: under the hypothesis (one probability for
// both samples, at the sizes the agreement test uses) the test rejects at
// the 5% level at most 5% of the time (it is conservative), and it rejects
// a real difference most of the time.
func TestFisherExactIsCalibrated(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	draw := func(n int, p float64) int {
		k := 0
		for range n {
			if rng.Float64() < p {
				k++
			}
		}
		return k
	}
	const sims = 2000
	same, differ := 0, 0
	for range sims {
		if FisherExact(draw(300, 0.14), 300, draw(2000, 0.14), 2000) < 0.05 {
			same++
		}
		if FisherExact(draw(300, 0.22), 300, draw(2000, 0.14), 2000) < 0.05 {
			differ++
		}
	}
	t.Logf("rejections at 5%%: %d of %d with equal rates, %d with 0.22 against 0.14", same, sims, differ)
	// 5% of 2,000 is 100, with a standard error of about 10.
	if same > 130 {
		t.Errorf("equal rates rejected %d times of %d", same, sims)
	}
	if differ < sims*7/10 {
		t.Errorf("0.22 against 0.14 rejected only %d times of %d", differ, sims)
	}
}

func TestHomogeneityKnownValues(t *testing.T) {
	// Expected counts 15, 20, 25 in each row: 2 (25/15 + 0 + 25/25).
	stat, p, df := Homogeneity([]int{10, 20, 30}, []int{20, 20, 20})
	if !near(stat, 16.0/3, 1e-12) || df != 2 || !near(p, math.Exp(-8.0/3), 1e-9) {
		t.Errorf("Homogeneity = %v, p %v, df %d; want 16/3, exp(-8/3), 2", stat, p, df)
	}
	// The tail (totals 13, 3, 1, 1 after 95) folds until its expected
	// count reaches 5: two categories, 95 and 18.
	_, _, df = Homogeneity([]int{50, 5, 1, 0, 1}, []int{45, 8, 2, 1})
	if df != 1 {
		t.Errorf("df %d after merging the tail, want 1", df)
	}
	if got := mergeTail([]int{50, 5, 1, 0, 1}, []int{45, 8, 2, 1}); len(got) != 2 || got[1] != [2]int{7, 11} {
		t.Errorf("mergeTail = %v, want [[50 45] [7 11]]", got)
	}
	if _, p, df := Homogeneity([]int{3}, []int{4}); p != 1 || df != 0 {
		t.Errorf("one category: p %v, df %d; want 1, 0", p, df)
	}
	if _, p, _ := Homogeneity([]int{100, 10}, []int{10, 100}); p > 1e-6 {
		t.Errorf("opposite distributions: p = %v", p)
	}
}
