package netsim

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Network is a model of the links between nodes: where each node is, how
// long a message takes to cross a link, and the bandwidth at each end.
type Network interface {
	// Assign places n nodes, drawing from rng.
	Assign(n int, rng *rand.Rand)
	// Latency draws the one-way delay of a message from node a to node b.
	Latency(a, b int, rng *rand.Rand) time.Duration
	// Bandwidth is the rate in bytes per second at which a sends to b, or 0
	// for no limit (linkmodel's unit).
	Bandwidth(a, b int) int64
	// Median is the model's median one-way latency between two random nodes
	// (the d of the stale-rate model).
	Median() time.Duration
	// String names the model as the --latency flag spells it.
	String() string
}

// ParseNetwork reads a --latency value: const:D, lognormal:MEDIAN,SIGMA or
// bitcoin.
func ParseNetwork(s string) (Network, error) {
	kind, arg, _ := strings.Cut(s, ":")
	switch kind {
	case "const":
		d, err := time.ParseDuration(arg)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("latency %q: want const:DURATION, e.g. const:100ms", s)
		}
		return constNetwork{d}, nil
	case "lognormal":
		m, sg, ok := strings.Cut(arg, ",")
		median, err1 := time.ParseDuration(m)
		sigma, err2 := strconv.ParseFloat(sg, 64)
		if !ok || err1 != nil || err2 != nil || median <= 0 || sigma < 0 || sigma > 5 {
			return nil, fmt.Errorf("latency %q: want lognormal:MEDIAN,SIGMA, e.g. lognormal:100ms,0.5", s)
		}
		return lognormalNetwork{median, sigma}, nil
	case "bitcoin":
		if arg != "" {
			return nil, fmt.Errorf("latency %q: bitcoin takes no parameters", s)
		}
		return &regionNetwork{}, nil
	}
	return nil, fmt.Errorf("latency %q: want const:D, lognormal:MEDIAN,SIGMA or bitcoin", s)
}

// constNetwork delays every message by d, with unlimited bandwidth.
type constNetwork struct{ d time.Duration }

func (constNetwork) Assign(int, *rand.Rand)                         {}
func (c constNetwork) Latency(_, _ int, _ *rand.Rand) time.Duration { return c.d }
func (constNetwork) Bandwidth(_, _ int) int64                       { return 0 }
func (c constNetwork) Median() time.Duration                        { return c.d }
func (c constNetwork) String() string                               { return "const:" + c.d.String() }

// lognormalNetwork draws each delay from a log-normal distribution with the
// given median and shape sigma, with unlimited bandwidth.
type lognormalNetwork struct {
	median time.Duration
	sigma  float64
}

func (lognormalNetwork) Assign(int, *rand.Rand) {}
func (l lognormalNetwork) Latency(_, _ int, rng *rand.Rand) time.Duration {
	return time.Duration(float64(l.median) * math.Exp(l.sigma*rng.NormFloat64()))
}
func (lognormalNetwork) Bandwidth(_, _ int) int64 { return 0 }
func (l lognormalNetwork) Median() time.Duration  { return l.median }
func (l lognormalNetwork) String() string {
	return fmt.Sprintf("lognormal:%v,%g", l.median, l.sigma)
}

// The bitcoin model is SimBlock's (Aoki et al., "SimBlock: A Blockchain
// Network Simulator", IEEE INFOCOM workshops 2019; the 2019 tables of its
// NetworkConfiguration): six regions with Bitcoin's share of nodes in each,
// a mean latency between each pair of regions, and per-region upload and
// download bandwidth. As in SimBlock, a delay is drawn from a Pareto
// distribution with scale mean-5 ms and shape 0.2*mean, and a transfer runs
// at the smaller of the sender's upload and the receiver's download rate.
var (
	regionShare = []float64{0.3316, 0.4998, 0.0090, 0.1177, 0.0224, 0.0195}
	// regionLatencyMs[i][j] is the mean one-way latency from region i to j.
	regionLatencyMs = [][]float64{
		{32, 124, 184, 198, 151, 189},
		{124, 11, 227, 237, 252, 294},
		{184, 227, 88, 325, 301, 322},
		{198, 237, 325, 85, 58, 198},
		{151, 252, 301, 58, 12, 126},
		{189, 294, 322, 198, 126, 16},
	}
	// Bandwidth in bytes per second: SimBlock's 52, 40, 18, 22.8, 22.8 and
	// 29.9 Mbit/s down and 19.2, 20.7, 5.8, 15.7, 10.2 and 11.3 Mbit/s up,
	// over 8.
	regionDownload = []int64{6_500_000, 5_000_000, 2_250_000, 2_850_000, 2_850_000, 3_737_500}
	regionUpload   = []int64{2_400_000, 2_587_500, 725_000, 1_962_500, 1_275_000, 1_412_500}
)

type regionNetwork struct{ region []int }

func (r *regionNetwork) Assign(n int, rng *rand.Rand) {
	r.region = make([]int, n)
	for i := range r.region {
		x, acc := rng.Float64(), 0.0
		r.region[i] = len(regionShare) - 1
		for k, s := range regionShare {
			if acc += s; x < acc {
				r.region[i] = k
				break
			}
		}
	}
}

func (r *regionNetwork) Latency(a, b int, rng *rand.Rand) time.Duration {
	mean := regionLatencyMs[r.region[a]][r.region[b]]
	shape, scale := 0.2*mean, mean-5
	u := 1 - rng.Float64() // in (0, 1]
	return time.Duration(math.Round(scale/math.Pow(u, 1/shape)) * float64(time.Millisecond))
}

func (r *regionNetwork) Bandwidth(a, b int) int64 {
	return min(regionUpload[r.region[a]], regionDownload[r.region[b]])
}

// Median is the median of the per-pair mean latencies, weighted by the
// share of node pairs between each two regions.
func (r *regionNetwork) Median() time.Duration {
	type pair struct{ ms, w float64 }
	var ps []pair
	for i := range regionShare {
		for j := range regionShare {
			ps = append(ps, pair{regionLatencyMs[i][j], regionShare[i] * regionShare[j]})
		}
	}
	slices.SortStableFunc(ps, func(a, b pair) int { return cmp.Compare(a.ms, b.ms) })
	acc := 0.0
	for _, p := range ps {
		if acc += p.w; acc >= 0.5 {
			return time.Duration(p.ms * float64(time.Millisecond))
		}
	}
	return time.Duration(ps[len(ps)-1].ms * float64(time.Millisecond))
}

func (*regionNetwork) String() string { return "bitcoin" }
