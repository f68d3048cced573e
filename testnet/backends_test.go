package testnet

import (
	"flag"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/dockerd"
	"github.com/chaind/chaind/stats"
)

var backendsFor = flag.Duration("backends.for", 5*time.Minute, "how long TestBackendsAgree runs each backend")

// backendsLevel is the agreement tests' significance level.
const backendsLevel = 0.01

// TestBackendsAgree (behind -soak): four PoW miners behind 200 ms links
// run for -backends.for as processes and as containers, each shaping its
// own links; the stale rates must agree (Fisher's
// exact test) and so must the reorg depth distributions (chi-square
// homogeneity), each at the 1% level, as netsim's agreement test asks of
// the simulator. It needs a Docker daemon (internal/dockerd).
func TestBackendsAgree(t *testing.T) {
	if !*soak {
		t.Skip("runs both backends for minutes; run with -soak")
	}
	dockerd.Start(t)
	tag := "chaind:testnet-agree"
	buildImage(t, tag)
	run := func(backend string) *Report {
		s := up(t, Options{Backend: backend, Image: tag, Nodes: 4, BlockTime: time.Second, Seed: 1,
			Link: LinkParams{Latency: 200 * time.Millisecond}})
		time.Sleep(*backendsFor) // wall-clock: the nodes are processes
		if err := s.Down(); err != nil {
			t.Fatal(err)
		}
		recs, err := LoadRecords(s.Dir())
		if err != nil {
			t.Fatal(err)
		}
		rep := Compute(recs)
		t.Logf("%s: %d of %d stale (%.4f [%.4f, %.4f]), reorg depths %v, d %.0f ms, T %.0f ms", backend,
			rep.Stale, rep.Produced, rep.StaleRate, rep.StaleRateCI.Lo, rep.StaleRateCI.Hi, rep.DepthCounts(), rep.DelayMs, rep.ProductionIntervalMs)
		return rep
	}
	procs, docker := run(BackendProcesses), run(BackendDocker)
	staleP := stats.FisherExact(procs.Stale, procs.Produced, docker.Stale, docker.Produced)
	chi2, depthsP, df := stats.Homogeneity(procs.DepthCounts(), docker.DepthCounts())
	t.Logf("stale rates: Fisher p = %.3g; reorg depths: chi-square %.2f, df %d, p = %.3g", staleP, chi2, df, depthsP)
	if staleP < backendsLevel {
		t.Errorf("stale rates %.4f (processes) and %.4f (docker) differ: p = %.3g", procs.StaleRate, docker.StaleRate, staleP)
	}
	if depthsP < backendsLevel {
		t.Errorf("reorg depths %v (processes) and %v (docker) differ: p = %.3g", procs.DepthCounts(), docker.DepthCounts(), depthsP)
	}
}
