package testnet

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"time"

	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/sim"
	"github.com/chaind/chaind/stats"
)

// AttackOptions configure the live double-spend race.
type AttackOptions struct {
	Dir       string        // required
	Nodes     int           // default 4: node 0 attacks, the others are honest
	Share     float64       // the attacker's share of the hash power; default 1/Nodes
	Z         int           // confirmations the merchant waits for; default 1
	Trials    int           // default 20
	BlockTime time.Duration // default 250ms
	GiveUp    int           // the attacker gives up this many blocks behind; default 6
	Force     bool          // delete an earlier testnet in Dir first (Options.Force)
	Binary    string
	Logger    *slog.Logger
	Progress  io.Writer
}

// AttackResult counts the live races next to the theory.
type AttackResult struct {
	Z          int              `json:"z"`
	Trials     int              `json:"trials"`
	Successes  int              `json:"successes"`
	GivenShare float64          `json:"givenShare"`          // the attacker's hash-power share, held by its --miner.hashrate
	Share      float64          `json:"attackerShare"`       // measured: attacker blocks / all blocks during the races
	Blocks     stats.Proportion `json:"attackerBlocks"`      // the attacker's blocks of all blocks during the races
	Rate       float64          `json:"successRate"`         // Successes / Trials
	RateCI     stats.Proportion `json:"successRateInterval"` // with its exact 95% interval
	PValue     float64          `json:"pValue"`              // exact binomial test of Successes against Exact
	Exact      float64          `json:"exact"`               // sim.Exact(given share, z+1): success = strictly longer
	GiveUpBias float64          `json:"giveUpProbability"`   // chance of catching up from GiveUp behind, ignored by the live race
}

// Attack runs the double spend live: node 0 is cut off and mines a private
// branch from the current head while the others mine the honest chain; once
// the honest chain has z blocks above the fork (the merchant's
// confirmations), the attacker releases its branch (the link is healed) as
// soon as it is strictly longer, or gives up when GiveUp blocks behind.
// First-seen tie breaking makes "strictly heavier" the winning condition,
// which is the textbook race for z + 1.
func Attack(opts AttackOptions) (*AttackResult, error) {
	if opts.Nodes == 0 {
		opts.Nodes = 4
	}
	if opts.Z == 0 {
		opts.Z = 1
	}
	if opts.Trials == 0 {
		opts.Trials = 20
	}
	if opts.BlockTime == 0 {
		opts.BlockTime = 250 * time.Millisecond
	}
	if opts.GiveUp == 0 {
		opts.GiveUp = 6
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Share == 0 {
		opts.Share = 1 / float64(opts.Nodes)
	}
	if opts.Nodes < 2 || opts.Share <= 0 || opts.Share >= 0.5 {
		return nil, fmt.Errorf("attack: share %.3f of %d nodes: want at least 2 nodes and a share in (0, 0.5)", opts.Share, opts.Nodes)
	}
	power := []float64{opts.Share}
	for range opts.Nodes - 1 {
		power = append(power, (1-opts.Share)/float64(opts.Nodes-1))
	}
	s, err := Up(Options{Dir: opts.Dir, Nodes: opts.Nodes, BlockTime: opts.BlockTime, Binary: opts.Binary, Logger: opts.Logger,
		Link: LinkParams{Latency: 5 * time.Millisecond}, HashPower: power, Force: opts.Force})
	if err != nil {
		return nil, err
	}
	defer s.Down()
	ctx := context.Background()
	waitHeight := func(min uint64) {
		for deadline := s.clock.Now().Add(time.Minute); s.clock.Now().Before(deadline); clock.Sleep(ctx, s.clock, 20*time.Millisecond) {
			if st := s.Status(ctx); st[0].Alive && st[0].Height >= min {
				return
			}
		}
	}
	waitHeight(3)
	res := &AttackResult{Z: opts.Z, Trials: opts.Trials, GivenShare: opts.Share}
	var attackerBlocks, allBlocks int
	honestGroup := make([]int, 0, opts.Nodes-1)
	for i := 1; i < opts.Nodes; i++ {
		honestGroup = append(honestGroup, i)
	}
	for trial := 0; trial < opts.Trials; trial++ {
		if !s.waitAgree(ctx, time.Minute) {
			return nil, fmt.Errorf("trial %d: the nodes did not converge after the last race", trial)
		}
		fork := s.Status(ctx)[1].Height
		if err := s.Partition([][]int{{0}, honestGroup}); err != nil {
			return nil, err
		}
		won := false
		for {
			clock.Sleep(ctx, s.clock, opts.BlockTime/10)
			st := s.Status(ctx)
			att, hon := int64(st[0].Height)-int64(fork), int64(st[1].Height)-int64(fork)
			// Fork choice is by total work, which the difficulty rule makes differ slightly
			// from length: the attacker wins when its branch is heavier.
			if hon >= int64(opts.Z) && st[0].Weight != nil && st[1].Weight != nil && st[0].Weight.Cmp(st[1].Weight) > 0 {
				won = true
				attackerBlocks += int(att)
				allBlocks += int(att + hon)
				break
			}
			if hon-att >= int64(opts.GiveUp) && hon >= int64(opts.Z) {
				attackerBlocks += int(att)
				allBlocks += int(att + hon)
				break
			}
		}
		s.Heal()
		if won {
			res.Successes++
		}
		fmt.Fprintf(opts.Progress, "trial %d/%d: attacker %s (%d successes so far)\n", trial+1, opts.Trials, map[bool]string{true: "won", false: "lost"}[won], res.Successes)
	}
	res.RateCI = stats.Binomial(res.Successes, res.Trials)
	res.Rate = res.RateCI.P
	res.Blocks = stats.Binomial(attackerBlocks, allBlocks)
	res.Share = res.Blocks.P
	res.Exact = sim.Exact(opts.Share, opts.Z+1)
	res.GiveUpBias = math.Pow(opts.Share/(1-opts.Share), float64(opts.GiveUp))
	res.PValue = stats.BinomialPValue(res.Successes, res.Trials, res.Exact)
	return res, nil
}
