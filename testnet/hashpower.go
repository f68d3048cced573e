package testnet

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"

	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/pow"
)

// Hash power. Every PoW miner of a testnet is held to its share of a
// declared total hash rate (its node runs with --miner.hashrate), so the
// shares hold whatever else the CPU does, as long as the machine can supply
// the total; killing a miner removes exactly its share. The genesis
// difficulty is the total times the block time, so the chain starts at its
// target pace without depending on a probe of a possibly busy machine.

// maxLoad is the fraction of the machine's measured capacity a declared
// hash rate may use: the rest is for the nodes' other work.
const maxLoad = 0.6

// normaliseHashPower checks o.HashPower (default: equal shares) and scales
// it to fractions that sum to 1.
func (o *Options) normaliseHashPower() error {
	if len(o.HashPower) == 0 {
		for range o.Nodes {
			o.HashPower = append(o.HashPower, 1)
		}
	}
	if len(o.HashPower) != o.Nodes {
		return fmt.Errorf("testnet: %d hash-power shares for %d nodes", len(o.HashPower), o.Nodes)
	}
	sum := 0.0
	for _, s := range o.HashPower {
		if s <= 0 {
			return errors.New("testnet: every hash-power share must be positive")
		}
		sum += s
	}
	for i := range o.HashPower {
		o.HashPower[i] /= sum
	}
	if o.Hashrate < 0 {
		return errors.New("testnet: the declared hash rate must not be negative")
	}
	return nil
}

// declareHashrate returns the total hash rate of a new PoW testnet:
// o.Hashrate, or 30% of what this machine can do (half of the 60% a
// declared rate may use), after checking that the
// machine can supply it (all miners together, and the largest one on its
// single thread).
func declareHashrate(o *Options) (float64, error) {
	all := pow.Capacity(min(o.Nodes, runtime.NumCPU()))
	one := pow.Capacity(1)
	largest := 0.0
	for _, s := range o.HashPower {
		largest = max(largest, s)
	}
	total := o.Hashrate
	if total == 0 {
		total = min(all, one/largest) * maxLoad / 2
	}
	if total > maxLoad*all || total*largest > maxLoad*one {
		return 0, fmt.Errorf("testnet: this machine hashes %.3g nonces/s (%.3g on one thread): it cannot supply %.3g in all with %.0f%% on one miner, keeping a margin of %.0f%%",
			all, one, total, 100*largest, 100*(1-maxLoad))
	}
	return total, nil
}

// minerHashrate is node i's --miner.hashrate: its share of the total the
// genesis was made for (difficulty per block time).
func (s *Supervisor) minerHashrate(i int) string {
	return strconv.FormatFloat(s.opts.HashPower[i]*engines.Hashrate(s.genesis), 'f', 0, 64)
}
