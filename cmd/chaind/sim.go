package main

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/chaind/chaind/figure"
	"github.com/chaind/chaind/sim"
)

func simCommands() []command {
	return []command{
		{"doublespend", "the double-spend race: Monte Carlo, Nakamoto's formula and the exact probability", simDoublespend, nil},
		{"network", "many nodes of the real chain code on simulated time and a simulated network", runSimNetwork, nil},
		{"eclipse", "an eclipse attack on the real address book: the share of a victim's outbound peers an attacker with so many addresses and groups gets", simEclipse, nil},
		{"compare", "the comparison of 'testnet compare' in the simulator, at scale (proof of work, and proof of stake with and without finality)", simCompare, nil},
	}
}

func simDoublespend(args []string) error {
	fs := newFlagSet("sim doublespend", "sim doublespend --q 0.1,0.3 --z 0..10 [--trials N] [--seed S] [--json]")
	qs := fs.Float64Slice("q", []float64{0.1, 0.3}, "attacker shares of the hash power, each in (0, 0.5)")
	zs := fs.String("z", "0..10", "confirmations: a range A..B or a list 1,2,6")
	trials := fs.Int("trials", 100_000, "races per (q, z)")
	seed := fs.Int64("seed", 1, "random seed")
	asJSON := fs.Bool("json", false, "print one JSON object on the last line")
	plotPath := fs.String("plot", "", "also draw the results to this file (.svg, .png or .pdf)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	confirmations, err := parseIntRange(*zs)
	if err != nil {
		return fmt.Errorf("--z: %w", err)
	}
	rng := rand.New(rand.NewSource(*seed))
	var results []sim.Race
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "q\tz\tsimulated\t95% interval\tNakamoto\texact\t")
	bar := newProgress(int64(len(*qs)*len(confirmations)*(*trials)), "simulating", "races")
	for _, q := range *qs {
		for _, z := range confirmations {
			r, err := sim.Simulate(q, z, *trials, rng)
			if err != nil {
				return err
			}
			bar.Add(*trials)
			results = append(results, r)
			fmt.Fprintf(w, "%.2f\t%d\t%.6f\t[%.6f, %.6f]\t%.6f\t%.6f\t\n", q, z, r.Simulated, r.Lo, r.Hi, r.Nakamoto, r.Exact)
		}
	}
	bar.Finish()
	w.Flush()
	fmt.Print(`
Probability that an attacker with share q of the hash power, mining a private
branch from the payment's parent, ever catches up after the merchant saw z
blocks. "exact" counts the attacker's blocks during the confirmation period
as they are, negative binomial (Rosenfeld 2014; equal to I_4pq(z, 1/2),
Grunspan and Perez-Marco 2017). Nakamoto's paper replaces them by a Poisson
variable with the same mean z*q/p but a different spread: it overstates the
risk slightly at one confirmation and understates it from two or three on,
more and more as z grows (q = 0.3, z = 10: 4.2% instead of 6.5%; q = 0.1,
z = 10: 0.00012% instead of 0.00079%). No z makes the risk zero: proof of
work is final only in probability.
`)
	if *plotPath != "" {
		if err := raceFigure(results).Save(*plotPath); err != nil {
			return err
		}
		fmt.Printf("plot: %s\n", *plotPath)
	}
	if *asJSON {
		return printJSON(map[string]any{"results": results})
	}
	return nil
}

// raceFigure draws the attacker's success probability against z on a log
// axis: per q, the simulation (bars: 2 standard errors), Nakamoto's formula
// and the exact probability.
func raceFigure(results []sim.Race) *figure.Figure {
	f := &figure.Figure{Title: "Double-spend race: P(the attacker ever catches up)", XLabel: "confirmations z",
		YLabel: "probability", LogY: true, WholeX: true}
	byQ := map[float64][3]*figure.Series{}
	var qs []float64
	for _, r := range results {
		ss, ok := byQ[r.Q]
		if !ok {
			ss = [3]*figure.Series{{Name: fmt.Sprintf("q = %g simulated", r.Q), Points: true},
				{Name: fmt.Sprintf("q = %g Nakamoto", r.Q)}, {Name: fmt.Sprintf("q = %g exact", r.Q)}}
			byQ[r.Q] = ss
			qs = append(qs, r.Q)
		}
		z := float64(r.Z)
		ss[0].X, ss[0].Y = append(ss[0].X, z), append(ss[0].Y, r.Simulated)
		ss[0].Lo, ss[0].Hi = append(ss[0].Lo, r.Lo), append(ss[0].Hi, r.Hi)
		ss[1].X, ss[1].Y = append(ss[1].X, z), append(ss[1].Y, r.Nakamoto)
		ss[2].X, ss[2].Y = append(ss[2].X, z), append(ss[2].Y, r.Exact)
	}
	for _, q := range qs {
		for _, s := range byQ[q] {
			f.Series = append(f.Series, *s)
		}
	}
	return f
}

// parseIntRange reads "A..B" or "a,b,c".
func parseIntRange(s string) ([]int, error) {
	if lo, hi, ok := strings.Cut(s, ".."); ok {
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || a < 0 || b < a {
			return nil, fmt.Errorf("%q: want A..B with 0 <= A <= B", s)
		}
		var out []int
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
		return out, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%q: want non-negative integers", s)
		}
		out = append(out, v)
	}
	return out, nil
}
