package sim

import (
	"errors"
	"math"
	"math/rand"

	"github.com/chaind/chaind/stats"
)

// The double-spend race. The merchant waits for z blocks on the honest chain
// (the one holding the payment counts as the first). Meanwhile the attacker,
// with a share q of the hash power (p = 1 - q), mines a private branch from
// the same parent. Every block is the attacker's with probability q,
// independently. When the honest chain has its z blocks the attacker has m,
// a negative binomial number; from then on the race is a random walk, and the
// attacker wins if its branch ever catches up with the honest chain (as in
// Nakamoto's paper; a node that breaks ties by first seen makes the attacker
// get one block further, which is the same race for z + 1).

// Nakamoto is the probability from section 11 of the Bitcoin paper: the
// attacker's progress while the honest network finds z blocks is taken to be
// Poisson with mean z q / p.
func Nakamoto(q float64, z int) float64 {
	if q >= 0.5 {
		return 1
	}
	p := 1 - q
	lambda := float64(z) * q / p
	sum := 1.0
	poisson := math.Exp(-lambda) // P(k = 0)
	for k := 0; k <= z; k++ {
		if k > 0 {
			poisson *= lambda / float64(k)
		}
		sum -= poisson * (1 - math.Pow(q/p, float64(z-k)))
	}
	return clamp01(sum)
}

// Exact is the probability when the attacker's progress is counted exactly:
// m attacker blocks before the z-th honest block is negative binomial, and
// from a deficit of z - m the attacker catches up with probability
// (q/p)^(z-m). The sum has Rosenfeld's closed form
//
//	1 - sum_{m=0}^{z} C(m+z-1, m) (p^z q^m - q^z p^m),
//
// which Grunspan and Pérez-Marco showed equals the regularised incomplete
// beta function I_{4pq}(z, 1/2).
func Exact(q float64, z int) float64 {
	if q >= 0.5 {
		return 1
	}
	if z == 0 {
		return 1
	}
	p := 1 - q
	sum := 1.0
	binom := 1.0 // C(m+z-1, m), starting at m = 0
	for m := 0; m <= z; m++ {
		if m > 0 {
			binom *= float64(m+z-1) / float64(m)
		}
		sum -= binom * (math.Pow(p, float64(z))*math.Pow(q, float64(m)) - math.Pow(q, float64(z))*math.Pow(p, float64(m)))
	}
	return clamp01(sum)
}

func clamp01(x float64) float64 { return math.Min(1, math.Max(0, x)) }

// Race is the result of a Monte-Carlo simulation.
type Race struct {
	Q         float64 `json:"q"`
	Z         int     `json:"z"`
	Trials    int     `json:"trials"`
	Successes int     `json:"successes"`
	Simulated float64 `json:"simulated"`
	Lo        float64 `json:"lo"` // exact 95% interval of Simulated (Clopper-Pearson)
	Hi        float64 `json:"hi"`
	Nakamoto  float64 `json:"nakamoto"`
	Exact     float64 `json:"exact"`
}

// Simulate races an attacker with share q against z confirmations, trials
// times, block by block. A race the attacker trails by more than cutoff
// blocks is counted lost; cutoff is chosen so that the chance of coming back
// from there, (q/p)^cutoff, is below 1e-12.
func Simulate(q float64, z, trials int, rng *rand.Rand) (Race, error) {
	if q <= 0 || q >= 0.5 {
		return Race{}, errors.New("q must be in (0, 0.5): an attacker with half the hash power always wins")
	}
	if z < 0 || trials <= 0 {
		return Race{}, errors.New("z must be >= 0 and trials > 0")
	}
	p := 1 - q
	cutoff := int(math.Ceil(math.Log(1e-12)/math.Log(q/p))) + 1
	r := Race{Q: q, Z: z, Trials: trials, Nakamoto: Nakamoto(q, z), Exact: Exact(q, z)}
	for t := 0; t < trials; t++ {
		honest, attacker := 0, 0
		for honest < z { // the confirmation period
			if rng.Float64() < q {
				attacker++
			} else {
				honest++
			}
		}
		for attacker < honest && honest-attacker <= cutoff { // the race after it
			if rng.Float64() < q {
				attacker++
			} else {
				honest++
			}
		}
		if attacker >= honest {
			r.Successes++
		}
	}
	est := stats.Binomial(r.Successes, trials)
	r.Simulated, r.Lo, r.Hi = est.P, est.Lo, est.Hi
	return r, nil
}
