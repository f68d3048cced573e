package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chaind/chaind/sim"
)

func simEclipse(args []string) error {
	fs := newFlagSet("sim eclipse", "sim eclipse [--attackers GxP,...] [--trials N] [--seed S] [--json]")
	attackers := fs.StringSlice("attackers", []string{"1x256", "4x256", "16x256", "32x256", "64x256", "1000x1", "4600x1", "10000x1"},
		"attackers as GROUPSxPER_GROUP: addresses in that many IPv4 /16s (a botnet: Nx1)")
	honestNew := fs.Int("honest-new", 5000, "honest addresses in the victim's new table before the attack")
	honestTried := fs.Int("honest-tried", 1000, "honest addresses in the victim's tried table before the attack")
	online := fs.Float64("honest-online", 0.5, "chance that an honest address answers")
	repeats := fs.Int("repeats", 8, "times the attacker sends each of its addresses, each from a random group of its own")
	attack := fs.Duration("attack", 24*time.Hour, "how long the flood lasts before the victim restarts")
	feeler := fs.Duration("feeler", 2*time.Minute, "one feeler connection per this interval")
	outbound := fs.Int("outbound", 8, "outbound peers after the restart (chaind's default --maxpeers 25 keeps 8)")
	anchors := fs.Int("anchors", 4, "honest anchors dialled first in the 'with anchors' column")
	trials := fs.Int("trials", 200, "victims per attacker")
	seed := fs.Int64("seed", 1, "random seed")
	asJSON := fs.Bool("json", false, "print one JSON object on the last line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var results []sim.EclipseResult
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "groups\tper group\taddresses\tnew share\ttried share\toutbound to attacker\t95% interval\teclipsed\t95% interval\twith anchors\t")
	for i, a := range *attackers {
		g, p, err := parseAttacker(a)
		if err != nil {
			return err
		}
		r, err := sim.Eclipse(sim.EclipseParams{Groups: g, PerGroup: p, HonestNew: *honestNew, HonestTried: *honestTried, HonestOnline: *online,
			Repeats: *repeats, Attack: *attack, FeelerInterval: *feeler, Outbound: *outbound, Anchors: *anchors, Trials: *trials, Seed: *seed + int64(i)})
		if err != nil {
			return err
		}
		results = append(results, r)
		fmt.Fprintf(w, "%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t[%.3f, %.3f]\t%.3f\t[%.3f, %.3f]\t%.3f\t\n", g, p, r.Addresses, r.NewShare, r.TriedShare,
			r.Outbound.P, r.Outbound.Lo, r.Outbound.Hi, r.Eclipsed.P, r.Eclipsed.Lo, r.Eclipsed.Hi, r.WithAnchorsOutbound.P)
	}
	w.Flush()
	fmt.Printf(`
Each row: %d victims, each with its own secret bucketing key, whose address
book (package p2p/addrman) holds %d honest addresses in new and %d in tried
(%.0f%% of honest addresses answer). The attacker sends each of its
addresses %d times from its own groups for %v; a feeler tests one address of
the new table every %v (the only way into tried). Then the victim restarts
and dials %d outbound peers in distinct /16s. "outbound to attacker" is the
share of those connections that went to the attacker, "eclipsed" the share
of victims whose every outbound connection did, "with anchors" the share
when %d honest anchors are dialled first. Intervals: exact (Clopper-Pearson)
95%%; the outbound connections of one victim are not independent, so its
interval is narrower than it should be.
`, *trials, *honestNew, *honestTried, *online*100, *repeats, *attack, *feeler, *outbound, *anchors)
	if *asJSON {
		return printJSON(map[string]any{"results": results})
	}
	return nil
}

// parseAttacker reads GROUPSxPER_GROUP.
func parseAttacker(s string) (groups, perGroup int, err error) {
	g, p, ok := strings.Cut(s, "x")
	if ok {
		if groups, err = strconv.Atoi(g); err == nil {
			perGroup, err = strconv.Atoi(p)
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("--attackers %q: want GROUPSxPER_GROUP, as 32x256", s)
	}
	return groups, perGroup, nil
}
