package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Proportion is k successes out of n with a 95% confidence interval.
type Proportion struct {
	K  int     `json:"k"`
	N  int     `json:"n"`
	P  float64 `json:"p"`  // k/n; 0 when n = 0
	Lo float64 `json:"lo"` // lower end of the exact 95% interval
	Hi float64 `json:"hi"` // upper end
}

// Binomial is k of n with the exact (Clopper-Pearson) 95% interval. It is
// conservative (it covers the true proportion at least 95% of the time,
// where Wilson's score interval dips to about 93% at the small rates and
// counts the testnet measures), stays within [0, 1] and does not shrink to
// a point when k is 0: 0 of 50 gives [0, 0.071]. With n = 0 the interval
// is [0, 1].
func Binomial(k, n int) Proportion {
	lo, hi := ClopperPearson(k, n, 0.05)
	pr := Proportion{K: k, N: n, Lo: lo, Hi: hi}
	if n > 0 {
		pr.P = float64(k) / float64(n)
	}
	return pr
}

// ClopperPearson is the exact (equal-tailed) interval for a binomial
// proportion at confidence 1-alpha: the set of p for which neither tail of
// Binomial(n, p) at k is below alpha/2. It is what an exact binomial test
// inverts: p0 lies outside it exactly when the test rejects p0 at level
// alpha.
func ClopperPearson(k, n int, alpha float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	if k > 0 {
		lo = distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1)}.Quantile(alpha / 2)
	}
	hi = 1
	if k < n {
		hi = distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile(1 - alpha/2)
	}
	return lo, hi
}

// BinomialPValue is the two-sided p-value of the exact binomial test of k
// successes in n trials against success probability p: twice the smaller
// tail, at most 1.
func BinomialPValue(k, n int, p float64) float64 {
	b := distuv.Binomial{N: float64(n), P: p}
	lower := b.CDF(float64(k))
	upper := 1.0
	if k > 0 {
		upper = 1 - b.CDF(float64(k-1))
	}
	return math.Min(1, 2*math.Min(lower, upper))
}

// Rate is a count of events over an exposure (seconds, slots) with an
// exact 95% interval for the rate.
type Rate struct {
	Count    int     `json:"count"`
	Exposure float64 `json:"exposure"`
	Rate     float64 `json:"rate"` // count / exposure
	Lo       float64 `json:"lo"`
	Hi       float64 `json:"hi"`
}

// PoissonRate is count events over exposure with Garwood's exact 95%
// interval (chi-square quantiles of the Poisson count).
func PoissonRate(count int, exposure float64) Rate {
	if exposure <= 0 {
		return Rate{Count: count}
	}
	r := Rate{Count: count, Exposure: exposure, Rate: float64(count) / exposure}
	if count > 0 {
		r.Lo = distuv.ChiSquared{K: 2 * float64(count)}.Quantile(0.025) / 2 / exposure
	}
	r.Hi = distuv.ChiSquared{K: 2 * float64(count+1)}.Quantile(0.975) / 2 / exposure
	return r
}

// ChiSquare is Pearson's goodness-of-fit statistic of counts against
// expected shares (which must sum to 1), with its p-value for len-1
// degrees of freedom.
func ChiSquare(counts []int, shares []float64) (stat, pValue float64) {
	n := 0
	for _, c := range counts {
		n += c
	}
	for i, c := range counts {
		e := shares[i] * float64(n)
		stat += (float64(c) - e) * (float64(c) - e) / e
	}
	return stat, 1 - distuv.ChiSquared{K: float64(len(counts) - 1)}.CDF(stat)
}

// Detectable is the smallest difference |p - p0| that a two-sided test of a
// proportion at level alpha detects with the given power after n trials
// (normal approximation): (z_{1-alpha/2} + z_power) sqrt(p0(1-p0)/n). It
// says how many trials a test needs to mean something.
func Detectable(p0 float64, n int, alpha, power float64) float64 {
	if n <= 0 {
		return math.Inf(1)
	}
	z := distuv.UnitNormal.Quantile(1-alpha/2) + distuv.UnitNormal.Quantile(power)
	return z * math.Sqrt(p0*(1-p0)/float64(n))
}
