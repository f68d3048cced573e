package testnet

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/chaind/chaind/stats"
	"github.com/ethereum/go-ethereum/common"
)

// Analyse is the comparison's analysis of one run's records, real or
// simulated: latency is the run's one-way latency, halves its partition.
func Analyse(name string, latency time.Duration, r *Records, halves [][]int) *RunResult {
	return analyse(name, latency, r, halves)
}

// analyse derives the comparison's numbers from one run's records.
func analyse(name string, lat time.Duration, r *Records, halves [][]int) *RunResult {
	rep := Compute(r)
	res := &RunResult{Variant: name, LatencyMs: float64(lat.Microseconds()) / 1000, Report: rep}
	canon := canonicalChain(r)
	actionAt := func(prefix string) int64 {
		for _, a := range r.Actions {
			if strings.HasPrefix(a.What, prefix) {
				return a.TimeMs
			}
		}
		return r.EndMs
	}
	tPart, tHeal := actionAt("partition"), actionAt("heal")
	kills := []int64{} // the distinct times of the crashes
	for _, a := range r.Actions {
		if strings.HasPrefix(a.What, "kill") && (len(kills) == 0 || kills[len(kills)-1] != a.TimeMs) {
			kills = append(kills, a.TimeMs)
		}
	}
	tRecover := actionAt("restart")
	produced := func(b *BlockRec) int64 { // when the block first appeared anywhere
		t := int64(math.MaxInt64)
		for _, s := range b.SeenMs {
			t = min(t, s)
		}
		return t
	}
	side := map[int]int{}
	for i, h := range halves {
		for _, n := range h {
			side[n] = i
		}
	}
	for _, b := range r.Blocks {
		if b.Height == 0 || len(b.SeenMs) == 0 {
			continue
		}
		t := produced(b)
		if t < tPart {
			res.HealthyProduced++
			if !canon[b.Hash] {
				res.HealthyStale++
			}
		}
		if t >= tPart && t < tHeal {
			if n, ok := r.Producers[b.Producer]; ok {
				res.PartitionSideBlocks[side[n]]++
			}
		}
	}
	res.HealthyStaleCI = stats.Binomial(res.HealthyStale, res.HealthyProduced)
	res.HealthyStaleRate = res.HealthyStaleCI.P
	if res.HealthyProduced > 0 {
		T := float64(tPart-r.StartMs) / float64(res.HealthyProduced)
		n := float64(r.Nodes)
		res.ModelStaleRate = 1 - math.Exp(-(n-1)/n*rep.DelayMs/T)
		res.ModelPValue = stats.BinomialPValue(res.HealthyStale, res.HealthyProduced, res.ModelStaleRate)
		res.ModelAgrees = res.ModelPValue >= ModelLevel
		res.ModelResolution = stats.Detectable(res.ModelStaleRate, res.HealthyProduced, ModelLevel, 0.8) / res.ModelStaleRate
	}
	for _, e := range r.Events {
		if e.TimeMs >= tHeal && e.TimeMs < tHeal+15000 {
			res.HealReorgDepth = max(res.HealReorgDepth, len(e.Removed))
		}
	}
	res.RevertedAtDepthCI = revertedAtDepth(r, 10, r.EndMs)
	res.RevertedAtDepth, res.ReachedDepth = shares(res.RevertedAtDepthCI)
	res.RevertedAtDepthHealthyCI = revertedAtDepth(r, 10, tPart)
	res.RevertedAtDepthHealthy, res.ReachedDepthHealthy = shares(res.RevertedAtDepthHealthyCI)
	if r.Consensus == "pos" {
		res.FinalityStallSec = finalityStall(r, tPart)
		res.HealthyFinality = timeToFinality(r, canonicalByHeight(r, canon), tPart)
	}
	windows := []struct {
		name     string
		from, to int64
	}{{"1/4 down", kills[0], kills[1]}, {"1/2 down", kills[1], tRecover}, {"recovered", tRecover, r.EndMs}}
	if len(kills) < 2 {
		windows = windows[:0]
	}
	for _, w := range windows {
		res.Crash = append(res.Crash, phaseStats(r, canon, w.name, w.from, w.to))
	}
	return res
}

// phaseStats counts the blocks whose header time falls in [from, to).
func phaseStats(r *Records, canon map[common.Hash]bool, name string, from, to int64) PhaseStats {
	ps := PhaseStats{Name: name}
	var made, stale, filled int
	for _, b := range r.Blocks {
		if t := blockTime(b); b.Height > 0 && t >= from && t < to {
			made++
			if !canon[b.Hash] {
				stale++
			} else {
				filled++
			}
		}
	}
	ps.BlocksPerSecCI = stats.PoissonRate(made, float64(to-from)/1000)
	ps.BlocksPerSec = ps.BlocksPerSecCI.Rate
	ps.StaleShareCI = stats.Binomial(stale, made)
	ps.StaleShare = ps.StaleShareCI.P
	if r.Consensus == "pos" && r.BlockTimeMs > 0 {
		// Slots whose start lies in the window.
		slots := int((to-1)/r.BlockTimeMs - (from-1)/r.BlockTimeMs)
		p := stats.Binomial(min(filled, slots), slots)
		ps.SlotsFilled = &p
	}
	ps.Finalizations = newFinalizations(r, from, to)
	return ps
}

// blockTime is a block's header timestamp, or when it was first seen for
// records that lack it.
func blockTime(b *BlockRec) int64 {
	if b.TimeMs > 0 {
		return b.TimeMs
	}
	t, _ := firstSeen(b)
	return t
}

// shares splits proportions into the rates and the trial counts.
func shares(ps []stats.Proportion) ([]float64, []int) {
	rates, ns := make([]float64, len(ps)), make([]int, len(ps))
	for i, p := range ps {
		rates[i], ns[i] = p.P, p.N
	}
	return rates, ns
}

// revertedAtDepth replays each node's head changes before until: a block reaches depth k
// on a node when k-1 blocks sit on it in that node's canonical chain, and is
// reverted there if a later reorg removes it. It returns, for k = 1..maxK,
// how many (node, block) pairs reached depth k and how many of those were
// later reverted, with the exact 95% interval of the share.
func revertedAtDepth(r *Records, maxK int, until int64) []stats.Proportion {
	reached := make([]int, maxK)
	reverted := make([]int, maxK)
	byNode := map[int][]EventRec{}
	for _, e := range r.Events {
		if e.TimeMs < until {
			byNode[e.Node] = append(byNode[e.Node], e)
		}
	}
	for _, evs := range byNode {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].TimeMs < evs[j].TimeMs })
		height := map[common.Hash]uint64{} // canonical blocks still below depth maxK
		deepest := map[common.Hash]int{}   // depth each canonical block reached
		for _, e := range evs {
			for _, h := range e.Removed {
				for k := 0; k < deepest[h]; k++ {
					reverted[k]++
				}
				delete(deepest, h)
				delete(height, h)
			}
			n := uint64(len(e.Added))
			for i, h := range e.Added {
				height[h] = e.Height + 1 - n + uint64(i)
			}
			for h, ht := range height {
				if e.Height < ht {
					continue
				}
				d := min(int(e.Height-ht)+1, maxK)
				for k := deepest[h]; k < d; k++ {
					reached[k]++
				}
				deepest[h] = max(deepest[h], d)
				if d == maxK {
					delete(height, h) // deep enough: only its reversal is left to see
				}
			}
		}
	}
	out := make([]stats.Proportion, maxK)
	for k := range out {
		out[k] = stats.Binomial(reverted[k], reached[k])
	}
	return out
}

// finalityStall is how long after the partition any node finalized a block
// higher than the highest final before it (the run's end if never).
func finalityStall(r *Records, from int64) float64 {
	var before uint64
	for _, recs := range r.Finalized {
		for _, f := range recs {
			if f.TimeMs < from {
				before = max(before, f.Height)
			}
		}
	}
	next := r.EndMs
	for _, recs := range r.Finalized {
		for _, f := range recs {
			if f.TimeMs >= from && f.Height > before && f.TimeMs < next {
				next = f.TimeMs
			}
		}
	}
	return float64(next-from) / 1000
}

// newFinalizations counts distinct finalized heights first reported in [from, to).
func newFinalizations(r *Records, from, to int64) int {
	first := map[uint64]int64{}
	for _, recs := range r.Finalized {
		for _, f := range recs {
			if t, ok := first[f.Height]; !ok || f.TimeMs < t {
				first[f.Height] = f.TimeMs
			}
		}
	}
	n := 0
	for _, t := range first {
		if t >= from && t < to {
			n++
		}
	}
	return n
}
