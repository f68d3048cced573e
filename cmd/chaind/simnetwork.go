package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/fault"
	"github.com/chaind/chaind/loadgen"
	"github.com/chaind/chaind/netsim"
	"github.com/chaind/chaind/testnet"
	"github.com/spf13/pflag"
)

const simNetworkSynopsis = "sim network [--consensus pow|pos] [--nodes N] [--block-time D] [--blocks N | --duration D] [--latency MODEL] [--peers K] [--block-size SIZE] [--hashpower 40,30,... | --validators N --stakes 40,30,...] [--selfish SHARE] [--epoch-length N] [--byzantine N=B1+B2,...] [--forkchoice ghost|longest] [--tx-rate R] [--relay push|announce] [--scenario FILE] [--seed S] [--out DIR] [--json] [--cpuprofile FILE] [--memprofile FILE]"

// runSimNetwork runs netsim and prints the testnet report of the run.
func runSimNetwork(args []string) error {
	fs := newFlagSet("sim network", simNetworkSynopsis)
	consensus := fs.String("consensus", "pow", "consensus to simulate: pow or pos (every node a validator)")
	shared := addSimFlags(fs, 600*time.Second, 0)
	epochLength := fs.Uint64("epoch-length", 32, "PoS: slots per epoch")
	validators := fs.Int("validators", 0, "PoS: number of validators, validator j on node j mod --nodes (default: one per node)")
	stakes := fs.String("stakes", "", "PoS: stake shares per validator, e.g. 40,30,20,10 (default: equal)")
	byzantine := fs.String("byzantine", "", "PoS: nodes whose validators misbehave, e.g. 0=equivocate+withhold,3=double-vote (behaviours: equivocate, double-vote, surround-vote, censor, withhold, twin: node i+1 runs node i's keys too)")
	forkChoice := fs.String("forkchoice", "", "PoS: fork-choice rule of every node, ghost (the default with finality) or longest")
	blocks := fs.Uint64("blocks", 100, "stop when the best chain reaches this height (0: use --duration)")
	duration := fs.Duration("duration", 0, "stop at this simulated time instead")
	latency := fs.String("latency", "bitcoin", "link model: const:D, lognormal:MEDIAN,SIGMA, or bitcoin (SimBlock's regions)")
	selfish := fs.Float64("selfish", 0, "make node 0 an Eyal-Sirer selfish miner with this share of the hash power")
	scenario := fs.String("scenario", "", "run the timeline (partition, heal, kill, restart, stop) of a testnet scenario file")
	out := fs.String("out", "", "write records.json here (then 'chaind testnet report DIR' draws the plots)")
	asJSON := fs.Bool("json", false, "print one JSON object on the last line")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	memProfile := fs.String("memprofile", "", "write a heap profile to this file at the end of the run, while every node is still open")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := shared.config()
	if err != nil {
		return err
	}
	cfg.Consensus, cfg.EpochLength, cfg.Validators, cfg.ForkChoice = *consensus, *epochLength, *validators, *forkChoice
	if cfg.Stakes, err = parseShares(*stakes); err != nil {
		return fmt.Errorf("--stakes: %w", err)
	}
	if cfg.Byzantine, err = parseByzantine(*byzantine, cfg.Nodes); err != nil {
		return fmt.Errorf("--byzantine: %w", err)
	}
	network, err := netsim.ParseNetwork(*latency)
	if err != nil {
		return fmt.Errorf("--latency: %w", err)
	}
	if *duration > 0 {
		*blocks = 0
	}
	if *scenario != "" {
		sc, err := testnet.LoadScenario(*scenario)
		if err != nil {
			return err
		}
		cfg.Steps = simSteps(sc.Steps)
	}
	cfg.Network, cfg.Blocks, cfg.Duration, cfg.Selfish = network, *blocks, *duration, *selfish
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *cpuProfile != "" {
		stopCPU, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stopCPU()
	}
	var heapErr error
	if *memProfile != "" {
		cfg.Finished = func() { heapErr = writeHeapProfile(*memProfile) }
	}
	res, err := netsim.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if heapErr != nil {
		return heapErr
	}
	if *out != "" {
		if err := writeRecords(*out, res); err != nil {
			return err
		}
	}
	rep := res.Report
	peakRSS, err := loadgen.PeakRSS(os.Getpid())
	if err != nil {
		return fmt.Errorf("peak memory: %w", err)
	}
	if !*asJSON {
		rep.WriteTable(os.Stdout)
		if sr := res.Selfish; sr != nil {
			fmt.Printf("  %-34s share %.3f, revenue %.4f (Eyal-Sirer at the measured gamma %.3f: %.4f)\n",
				"selfish miner (node 0)", sr.Share, sr.RelativeRevenue, sr.Gamma, sr.Theory)
		}
		if cfg.Consensus == chain.ConsensusPoS {
			fmt.Printf("  %-34s %v\n", "validators slashed", res.Slashed)
		}
		for _, b := range res.Byzantine {
			fate := "not slashed"
			if b.Slashed {
				fate = "slashed"
			}
			fmt.Printf("  %-34s %s: %s on the best chain\n", fmt.Sprintf("byzantine validator (node %d)", b.Node), b.Behaviour, fate)
		}
		fmt.Printf("  %-34s %d ms (median over blocks and nodes)\n", "time for a node to receive a block", netsim.MedianArrival(res.Records).Milliseconds())
		fmt.Printf("  %-34s %.1f s, %d events (%.0f/s), peak RSS %.0f MiB\n", "wall time",
			res.Wall.Seconds(), res.Events, float64(res.Events)/res.Wall.Seconds(), peakRSS)
		return nil
	}
	summary := map[string]any{
		"nodes": rep.Nodes, "latency": network.String(), "relay": cfg.Relay.String(), "block_time_ms": rep.BlockTimeMs, "block_size": cfg.BlockSize,
		"blocks": rep.Produced, "canonical_blocks": rep.Canonical, "stale_blocks": rep.Stale,
		"stale_rate": rep.StaleRate, "stale_rate_interval": [2]float64{rep.StaleRateCI.Lo, rep.StaleRateCI.Hi},
		"median_propagation_ms": netsim.MedianArrival(res.Records).Milliseconds(),
		"propagation_to_all_ms": rep.Propagation, "reorgs": rep.Reorgs, "max_reorg_depth": rep.MaxReorgDepth,
		"reorg_depths": rep.ReorgDepths, "finalized_reverted": rep.FinalizedReverted, "heads_agree": rep.HeadsAgree,
		"simulated_seconds": rep.DurationSec, "events": res.Events, "seed": cfg.Seed, "consensus": cfg.Consensus,
		"finalized_height": rep.FinalizedHeight, "time_to_finality_ms": rep.TimeToFinality, "refused_blocks": res.Refused,
		"wall_seconds": res.Wall.Seconds(), "wall_events_per_second": float64(res.Events) / res.Wall.Seconds(),
		"wall_peak_rss_bytes": int64(peakRSS * (1 << 20)),
	}
	if res.Selfish != nil {
		summary["selfish"] = res.Selfish
	}
	if len(res.Byzantine) > 0 {
		summary["byzantine"] = res.Byzantine
	}
	if cfg.Consensus == chain.ConsensusPoS {
		summary["validators"] = cfg.ValidatorCount()
		summary["validators_slashed"] = res.Slashed
	}
	if cfg.TxRate > 0 {
		summary["tx_rate"] = cfg.TxRate
		summary["txs_sent"], summary["txs_included"] = rep.TxsSent, rep.TxsMined
		summary["tx_inclusion_ms"] = rep.Confirmations[1]
		summary["tx_confirmation_ms"] = rep.Confirmations
	}
	return printJSON(summary)
}

// simFlags are the flags that sim network and sim compare share.
type simFlags struct {
	nodes, peers                    *int
	blockTime, halfLife, processing *time.Duration
	blockSize, validation, hashpwr  *string
	relay                           *string
	txRate                          *float64
	seed                            *uint64
}

// addSimFlags registers the shared flags with these defaults.
func addSimFlags(fs *pflag.FlagSet, blockTime time.Duration, txRate float64) *simFlags {
	return &simFlags{
		nodes:      fs.Int("nodes", 100, "number of nodes"),
		blockTime:  fs.Duration("block-time", blockTime, "target block interval"),
		peers:      fs.Int("peers", 8, "neighbours per node (a random regular graph)"),
		blockSize:  fs.String("block-size", "1MB", "simulated payload per block (bytes; kB and MB suffixes); with --tx-rate, a block's capacity"),
		hashpwr:    fs.String("hashpower", "", "hash-power shares per node, e.g. 40,30,20,10 (default: equal)"),
		halfLife:   fs.Duration("half-life", 0, "difficulty half-life (default: the genesis default); a very long one holds difficulty constant"),
		processing: fs.Duration("processing", 2*time.Millisecond, "time a node takes to handle any block"),
		validation: fs.String("validation-rate", "20MB", "payload a node validates per second (0: free)"),
		txRate:     fs.Float64("tx-rate", txRate, "signed transfers arriving per simulated second at random nodes (then blocks carry them, up to --block-size)"),
		relay:      fs.String("relay", "push", "how nodes pass blocks and transactions on: push (whole, at once) or announce (hash first, sent on request)"),
		seed:       fs.Uint64("seed", 1, "random seed: the same flags and seed give the same results"),
	}
}

// config is the run the shared flags describe, without its network, its
// end or its scenario.
func (f *simFlags) config() (netsim.Config, error) {
	size, err := parseSize(*f.blockSize)
	if err != nil {
		return netsim.Config{}, fmt.Errorf("--block-size: %w", err)
	}
	rate, err := parseSize(*f.validation)
	if err != nil {
		return netsim.Config{}, fmt.Errorf("--validation-rate: %w", err)
	}
	relay, err := netsim.ParseRelay(*f.relay)
	if err != nil {
		return netsim.Config{}, fmt.Errorf("--relay: %w", err)
	}
	shares, err := parseShares(*f.hashpwr)
	if err != nil {
		return netsim.Config{}, fmt.Errorf("--hashpower: %w", err)
	}
	return netsim.Config{
		Nodes: *f.nodes, BlockTime: *f.blockTime, BlockSize: int(size), Peers: min(*f.peers, max(*f.nodes-1, 1)),
		HashPower: shares, HalfLife: *f.halfLife, Processing: *f.processing, ValidationRate: float64(rate),
		TxRate: *f.txRate, Relay: relay, Seed: *f.seed, Progress: logProgress,
	}, nil
}

func logProgress(p netsim.Progress) {
	slog.Info("Simulating", "simulated", p.SimTime.Round(time.Second), "height", p.Height, "blocks", p.Blocks,
		"events/s", math.Round(p.EventsPerS))
}

// simSteps is a scenario's timeline without its send steps: --tx-rate
// sends the simulation's transactions.
func simSteps(steps []testnet.Step) []testnet.Step {
	var out []testnet.Step
	skipped := 0
	for _, st := range steps {
		f, _ := st.Fault() // LoadScenario checked it
		if _, send := f.(fault.Send); send {
			skipped++
			continue
		}
		out = append(out, st)
	}
	if skipped > 0 {
		slog.Warn("The scenario's send steps are skipped (--tx-rate sends transactions)", "steps", skipped)
	}
	return out
}

func writeRecords(dir string, res *netsim.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	data, err := json.Marshal(res.Records)
	if err != nil {
		return fmt.Errorf("encode records: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "records.json"), data, 0o644); err != nil {
		return fmt.Errorf("write records: %w", err)
	}
	return nil
}

// parseSize reads a byte count with an optional kB or MB suffix (powers of 10).
func parseSize(s string) (int64, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range []struct {
		suffix string
		mult   float64
	}{{"mb", 1e6}, {"kb", 1e3}, {"b", 1}} {
		if strings.HasSuffix(v, u.suffix) {
			v, mult = strings.TrimSuffix(v, u.suffix), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f*mult > 1<<40 {
		return 0, fmt.Errorf("%q: want a size such as 1000000, 500kB or 1MB", s)
	}
	return int64(f * mult), nil
}

// parseShares reads "40,30,20,10"; "" means equal shares.
func parseShares(s string) ([]float64, error) {
	if s == "" {
		return nil, nil
	}
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%q: want non-negative numbers separated by commas", s)
		}
		out = append(out, v)
	}
	return out, nil
}
