package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/pos"
	"github.com/chaind/chaind/testnet"
	"github.com/spf13/pflag"
)

func testnetCommands() []command {
	return []command{
		{"up", "start a testnet (in the foreground, or --detach)", testnetUp, nil},
		{"run", "start a testnet and play a scenario file's timeline", testnetRun, nil},
		{"status", "print every node's head, peers, mempool and miner", testnetStatus, nil},
		{"send", "send transfers from the funded account", testnetSend, nil},
		{"partition", "cut the links between groups of nodes", testnetPartition, nil},
		{"heal", "restore every link", testnetHeal, nil},
		{"kill", "kill a node's process (SIGKILL)", testnetNodeCommand("kill", "testnet_kill", "killed"), nil},
		{"restart", "restart a killed node on its data directory", testnetNodeCommand("restart", "testnet_restart", "restarted"), nil},
		{"set-link", "set one direction of one link's latency, jitter, loss and bandwidth", testnetSetLink, nil},
		{"down", "stop every node and the supervisor", testnetDown, nil},
		{"report", "write the report and plots of a testnet directory", testnetReport, nil},
		{"compare", "run PoW, PoS and PoS without finality on the same network and compare them", testnetCompare, nil},
		{"attack", "run the double-spend race live against a testnet", testnetAttack, nil},
		{"manifests", "write Kubernetes manifests and a Compose file for a testnet", testnetManifests, nil},
		{"image", "build the docker backend's image (FROM scratch) from a static chaind", testnetImage, nil},
	}
}

// backendFlags adds --backend, --image and --kube-context, and returns
// what sets them in a testnet's options.
func backendFlags(fs *pflag.FlagSet) func(*testnet.Options) {
	backend := fs.String("backend", testnet.BackendProcesses, "what runs the nodes: processes, docker (one container per node; see chaind testnet image), swarm (one service per node in a stack on the swarm the docker CLI manages) or kubernetes (a StatefulSet applied with kubectl; PoW only)")
	image := fs.String("image", testnet.DefaultImage, "docker, swarm, kubernetes: the chaind image the containers run")
	kubeContext := fs.String("kube-context", "", "kubernetes: kubectl's context (default its current one)")
	return func(opts *testnet.Options) {
		opts.Backend, opts.Image, opts.KubeContext = *backend, *image, *kubeContext
	}
}

func dirFlag(fs *pflag.FlagSet) *string {
	return fs.String("dir", defaultTestnetDir("testnet"), "testnet directory")
}

// defaultTestnetDir is ~/.chaind/NAME (or NAME under the temporary
// directory without a home): never the working directory, which is often
// the source tree.
func defaultTestnetDir(name string) string {
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "chaind-"+name)
	}
	return filepath.Join(home, ".chaind", name)
}

// linkFlags adds the shaping flags; apply reads them into p.
func linkFlags(fs *pflag.FlagSet) func(p *testnet.LinkParams) error {
	latency := fs.Duration("latency", 0, "one-way latency of every link")
	jitter := fs.Duration("jitter", 0, "extra uniform random delay in [0, jitter)")
	loss := fs.Float64("loss", 0, "probability that a message is lost (0-1)")
	bandwidth := fs.String("bandwidth", "", "bandwidth per link direction: bytes/s, or with a unit (500kbit, 10mbit, 1MB)")
	return func(p *testnet.LinkParams) error {
		if *loss < 0 || *loss >= 1 {
			return fmt.Errorf("--loss %v: want a probability in [0, 1)", *loss)
		}
		bw, err := parseRate(*bandwidth)
		if err != nil {
			return err
		}
		p.Latency, p.Jitter, p.Loss, p.Bandwidth = *latency, *jitter, *loss, bw
		return nil
	}
}

// parseRate reads a bandwidth in bytes per second.
func parseRate(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		bytes  float64
	}{{"mbit", 1e6 / 8}, {"kbit", 1e3 / 8}, {"mb", 1e6}, {"kb", 1e3}, {"b", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.bytes
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("--bandwidth %q: want a rate such as 1000000, 500kbit or 10mbit", s)
	}
	return int64(v * mult), nil
}

func testnetUp(args []string) error {
	fs := newFlagSet("testnet up", "testnet up [--nodes N] [--consensus pow|pos|bft [--stakes 40,30,20,10] [--byzantine N=B1+B2,...]] [--hashpower 40,30,20,10 [--hashrate R]] [--dir DIR [--resume|--force]] [--block-time D] [--latency D] [--jitter D] [--loss P] [--bandwidth R] [--seed S] [--prometheus] [--backend processes|docker|swarm|kubernetes [--image IMAGE] [--kube-context C]] [--detach]")
	nodes := fs.Int("nodes", 4, "number of nodes (1 to 64)")
	consensus := fs.String("consensus", engines.Names()[0], "consensus: "+strings.Join(engines.Names(), " or "))
	stakes := fs.Int64Slice("stakes", nil, "pos, bft: ether staked by each node, such as 40,30,20,10 (default 32 each)")
	hashpower := fs.Float64Slice("hashpower", nil, "pow: each node's share of the hash power, such as 40,30,20,10 (default equal)")
	hashrate := fs.Float64("hashrate", 0, "pow: total nonces per second of all miners (default 30% of what this machine can do)")
	epochLength := fs.Uint64("epoch-length", 0, "pos: slots per epoch (0: 8)")
	finality := fs.Bool("finality", true, "pos: run the 2/3-stake finality gadget (--finality=false: probabilistic PoS)")
	byzantine := fs.String("byzantine", "", "pos: Byzantine validators for experiments, such as 0=equivocate+censor,2=double-vote")
	dir := dirFlag(fs)
	resume := fs.Bool("resume", false, "continue the testnet already in --dir (its chain goes on; the report covers only this run)")
	force := fs.Bool("force", false, "delete the testnet already in --dir and start a new one")
	blockTime := fs.Duration("block-time", time.Second, "target block interval (pos: the slot time)")
	seed := fs.Int64("seed", 1, "seed for the links' loss and jitter")
	detach := fs.Bool("detach", false, "leave the supervisor running in the background")
	prometheus := fs.Bool("prometheus", false, "write a Prometheus scrape configuration of the nodes to DIR/prometheus and run prometheus when installed")
	duration := fs.Duration("duration", 0, "take the testnet down after this long (0: run until interrupted)")
	logLevel := fs.String("log.level", "info", "supervisor log level")
	applyBackend := backendFlags(fs)
	applyLink := linkFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *nodes < 1 {
		return fmt.Errorf("--nodes %d: want 1 to 64", *nodes)
	}
	if err := engineFlags(fs, *consensus); err != nil {
		return err
	}
	log, err := newLogger(*logLevel)
	if err != nil {
		return err
	}
	byz, err := parseByzantine(*byzantine, *nodes)
	if err != nil {
		return err
	}
	opts := testnet.Options{Dir: *dir, Nodes: *nodes, Consensus: *consensus, BlockTime: *blockTime, Seed: *seed, Logger: log,
		Stakes: *stakes, EpochLength: *epochLength, NoFinality: !*finality, Byzantine: behaviourNames(byz), HashPower: *hashpower, Hashrate: *hashrate,
		Prometheus: *prometheus, Resume: *resume, Force: *force}
	applyBackend(&opts)
	for n, b := range byz {
		if b&pos.ByzTwin != 0 {
			if *nodes < 2 {
				return fmt.Errorf("--byzantine %d=twin: a twin needs a second node to run on", n)
			}
			opts.Twins = append(opts.Twins, n)
		}
	}
	if err := applyLink(&opts.Link); err != nil {
		return err
	}
	if *detach {
		if err := opts.Check(); err != nil {
			return err
		}
		return detachSupervisor(*dir, args)
	}
	s, err := testnet.Up(opts)
	if err != nil {
		return err
	}
	s.Print(os.Stdout)
	return superviseUntilDone(s, *duration)
}

// engineFlags refuses a flag of an engine (engines.Engine.TestnetFlags)
// that --consensus did not choose, which would otherwise be ignored.
func engineFlags(fs *pflag.FlagSet, consensus string) error {
	chosen, err := engines.Lookup(consensus)
	if err != nil {
		return nil // testnet.Up names the engines
	}
	for _, e := range engines.All() {
		if e.Name == consensus {
			continue
		}
		for _, name := range e.TestnetFlags {
			if fs.Changed(name) && !slices.Contains(chosen.TestnetFlags, name) {
				return fmt.Errorf("--%s is a %s flag; this testnet runs --consensus %s", name, e.Name, consensus)
			}
		}
	}
	return nil
}

// superviseUntilDone prints progress until the testnet is taken down (by a
// signal, testnet down, or the duration), then writes the report.
func superviseUntilDone(s *testnet.Supervisor, duration time.Duration) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var timeout <-chan time.Time
	if duration > 0 {
		timeout = time.After(duration) // wall-clock: the nodes are OS processes
	}
	down := make(chan error, 1)
	go func() { down <- s.Wait() }()
	tick := time.NewTicker(10 * time.Second) // wall-clock: progress lines for the person waiting
	defer tick.Stop()
	start := time.Now()
	for {
		select {
		case <-sigs:
			fmt.Println("stopping the testnet...")
			s.Down()
		case <-timeout:
			s.Down()
		case err := <-down:
			if err != nil {
				return err
			}
			return printReport(s.Dir())
		case <-tick.C:
			fmt.Printf("[%4.0fs] %s\n", time.Since(start).Seconds(), heightsLine(s.Status(context.Background())))
		}
	}
}

func heightsLine(st []testnet.NodeStatus) string {
	var parts []string
	for _, n := range st {
		if !n.Alive {
			parts = append(parts, fmt.Sprintf("node %d down", n.Index))
			continue
		}
		parts = append(parts, fmt.Sprintf("node %d at %d (%d peers)", n.Index, n.Height, n.Peers))
	}
	return strings.Join(parts, ", ")
}

func printReport(dir string) error {
	rep, err := testnet.WriteReport(dir)
	if err != nil {
		return err
	}
	rep.WriteTable(os.Stdout)
	fmt.Printf("report: %s (and report.json, plots *.svg)\n", filepath.Join(dir, "report.md"))
	return nil
}

func testnetRun(args []string) error {
	fs := newFlagSet("testnet run", "testnet run SCENARIO.json [--dir DIR [--force]] [--backend processes|docker|swarm|kubernetes [--image IMAGE]]")
	dir := dirFlag(fs)
	force := fs.Bool("force", false, "delete the testnet already in --dir and start a new one")
	logLevel := fs.String("log.level", "warn", "supervisor log level")
	applyBackend := backendFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("testnet run: give one scenario file")
	}
	sc, err := testnet.LoadScenario(fs.Arg(0))
	if err != nil {
		return err
	}
	log, err := newLogger(*logLevel)
	if err != nil {
		return err
	}
	opts := sc.Options(*dir, "", log)
	opts.Force = *force
	applyBackend(&opts)
	s, err := testnet.Up(opts)
	if err != nil {
		return err
	}
	s.Print(os.Stdout)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; ok {
			s.Down()
		}
	}()
	total := sc.Steps[len(sc.Steps)-1].At.D()
	start := time.Now() // wall-clock: progress lines for the person waiting
	progress := func(what string) {
		fmt.Printf("[%5.1fs / %.0fs] %-9s %s\n", time.Since(start).Seconds(), total.Seconds(), what, heightsLine(s.Status(context.Background())))
	}
	stopTicks := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				progress("")
			case <-stopTicks:
				return
			}
		}
	}()
	runErr := sc.Run(s, func(st testnet.Step, _ time.Duration) { progress(st.Do) })
	close(stopTicks)
	if err := s.Down(); err != nil {
		return err
	}
	if runErr != nil {
		return runErr
	}
	return printReport(*dir)
}

func testnetReport(args []string) error {
	fs := newFlagSet("testnet report", "testnet report [DIR | --dir DIR]")
	dir := dirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 1 {
		*dir = fs.Arg(0)
	}
	return printReport(*dir)
}

func testnetCompare(args []string) error {
	fs := newFlagSet("testnet compare", "testnet compare [--nodes N] [--duration D] [--latency 50ms,200ms] [--block-time D] [--hashpower 40,30,20,10] [--seed S] [--quick] --out DIR")
	out := fs.String("out", "compare", "report directory")
	nodes := fs.Int("nodes", 4, "nodes per network")
	duration := fs.Duration("duration", 0, "length of each run (default 120s; --quick: 30s)")
	latencies := fs.DurationSlice("latency", nil, "one-way latencies to compare (default 50ms,200ms; --quick: 50ms)")
	blockTime := fs.Duration("block-time", 500*time.Millisecond, "PoW target interval and PoS slot")
	hashpower := fs.Float64Slice("hashpower", nil, "pow: each node's share of the hash power, such as 40,30,20,10 (default equal)")
	hashrate := fs.Float64("hashrate", 0, "pow: total nonces per second of all miners (default 30% of what this machine can do)")
	seed := fs.Int64("seed", 1, "seed for the links' jitter")
	quick := fs.Bool("quick", false, "one latency, 30 s runs: about two minutes in all")
	reanalyse := fs.Bool("reanalyse", false, "recompute the report from the runs already in --out")
	redraw := fs.Bool("redraw", false, "redraw report.md and the plots from --out's results.json (no records needed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *nodes < 2 {
		return fmt.Errorf("--nodes %d: a comparison splits the network in halves; want at least 2", *nodes)
	}
	if *redraw {
		if _, err := testnet.Redraw(*out); err != nil {
			return err
		}
		fmt.Printf("redrew %s and its plots from %s\n", filepath.Join(*out, "report.md"), filepath.Join(*out, "results.json"))
		return nil
	}
	cmp, err := testnet.Compare(testnet.CompareOptions{Out: *out, Nodes: *nodes, Duration: *duration, Latencies: *latencies,
		BlockTime: *blockTime, HashPower: *hashpower, Hashrate: *hashrate, Seed: *seed, Quick: *quick, Reanalyse: *reanalyse, Progress: os.Stdout})
	if err != nil {
		return err
	}
	for _, r := range cmp.Runs {
		fmt.Printf("%-15s %4.0f ms: %4d blocks, stale %.3f [%.3f, %.3f] (healthy), deepest reorg %d, finalized reverted %d\n",
			r.Variant, r.LatencyMs, r.Report.Produced, r.HealthyStaleRate, r.HealthyStaleCI.Lo, r.HealthyStaleCI.Hi, r.Report.MaxReorgDepth, r.Report.FinalizedReverted)
	}
	return nil
}

func testnetAttack(args []string) error {
	fs := newFlagSet("testnet attack", "testnet attack [--nodes N] [--z Z] [--trials T] [--block-time D] [--dir DIR [--force]] [--json]")
	dir := fs.String("dir", defaultTestnetDir("attack"), "testnet directory")
	force := fs.Bool("force", false, "delete the testnet already in --dir and start a new one")
	nodes := fs.Int("nodes", 4, "nodes; node 0 is the attacker")
	share := fs.Float64("share", 0, "the attacker's share of the hash power (default 1/nodes)")
	z := fs.Int("z", 1, "confirmations the merchant waits for")
	trials := fs.Int("trials", 20, "races to run")
	blockTime := fs.Duration("block-time", 250*time.Millisecond, "target block interval")
	asJSON := fs.Bool("json", false, "print one JSON object on the last line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *nodes < 2 {
		return fmt.Errorf("--nodes %d: an attacker and at least one honest node; want at least 2", *nodes)
	}
	log, err := newLogger("warn")
	if err != nil {
		return err
	}
	res, err := testnet.Attack(testnet.AttackOptions{Dir: *dir, Nodes: *nodes, Share: *share, Z: *z, Trials: *trials, BlockTime: *blockTime, Force: *force, Logger: log, Progress: os.Stdout})
	if err != nil {
		return err
	}
	fmt.Printf("attacker share %.3f (measured %.3f), z = %d: %d of %d races won (%.3f, 95%% interval [%.3f, %.3f]); exact probability for a strictly heavier branch (the race for z+1): %.3f (exact test p = %.3g)\n",
		res.GivenShare, res.Share, res.Z, res.Successes, res.Trials, res.Rate, res.RateCI.Lo, res.RateCI.Hi, res.Exact, res.PValue)
	if *asJSON {
		return printJSON(res)
	}
	return nil
}
