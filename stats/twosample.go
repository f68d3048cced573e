package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// FisherExact is the two-sided p-value of Fisher's exact test that two
// binomial samples, k1 of n1 and k2 of n2, share one success probability.
// Given the margins, the count k1 is hypergeometric under that hypothesis;
// the p-value sums the probabilities of every table no more likely than
// the one observed (with a relative tolerance of 1e-7 for ties, as R's
// fisher.test does).
func FisherExact(k1, n1, k2, n2 int) float64 {
	if n1 <= 0 || n2 <= 0 || k1 < 0 || k2 < 0 || k1 > n1 || k2 > n2 {
		return math.NaN()
	}
	k := k1 + k2
	lo, hi := max(0, k-n2), min(k, n1)
	logP := func(x int) float64 { return logChoose(n1, x) + logChoose(n2, k-x) - logChoose(n1+n2, k) }
	observed := logP(k1)
	p := 0.0
	for x := lo; x <= hi; x++ {
		if lp := logP(x); lp <= observed+1e-7 {
			p += math.Exp(lp)
		}
	}
	return math.Min(1, p)
}

func logChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// Homogeneity is Pearson's chi-square test that two samples of counts over
// the same ordered categories (such as reorg depths 1, 2, 3, ...) come from
// one distribution. Categories at the tail are merged until every expected
// count is at least 5 (Cochran's rule), so that the chi-square
// approximation holds; df is the degrees of freedom left (categories - 1).
// With fewer than two categories left the test has nothing to compare and
// returns p = 1, df = 0.
func Homogeneity(a, b []int) (stat, pValue float64, df int) {
	cats := mergeTail(a, b)
	na, nb := 0, 0
	for _, c := range cats {
		na += c[0]
		nb += c[1]
	}
	if len(cats) < 2 || na == 0 || nb == 0 {
		return 0, 1, 0
	}
	n := float64(na + nb)
	for _, c := range cats {
		col := float64(c[0] + c[1])
		for i, obs := range c {
			e := col * float64([]int{na, nb}[i]) / n
			stat += (float64(obs) - e) * (float64(obs) - e) / e
		}
	}
	df = len(cats) - 1
	return stat, 1 - distuv.ChiSquared{K: float64(df)}.CDF(stat), df
}

// mergeTail pairs the counts of a and b by category and folds the last
// category into the one before it while any expected count of the last is
// below 5.
func mergeTail(a, b []int) [][2]int {
	cats := make([][2]int, max(len(a), len(b)))
	na, nb := 0, 0
	for i := range cats {
		if i < len(a) {
			cats[i][0] = a[i]
			na += a[i]
		}
		if i < len(b) {
			cats[i][1] = b[i]
			nb += b[i]
		}
	}
	for len(cats) > 0 && cats[len(cats)-1] == [2]int{} {
		cats = cats[:len(cats)-1]
	}
	n := float64(na + nb)
	small := func(c [2]int) bool {
		col := float64(c[0] + c[1])
		return col*float64(min(na, nb))/n < 5
	}
	for len(cats) > 1 && small(cats[len(cats)-1]) {
		last := cats[len(cats)-1]
		cats = cats[:len(cats)-1]
		cats[len(cats)-1][0] += last[0]
		cats[len(cats)-1][1] += last[1]
	}
	return cats
}
