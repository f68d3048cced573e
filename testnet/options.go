package testnet

// What a testnet is made of, and the checks of the options before anything
// is started.

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/fault"
)

// Options describe a testnet.
type Options struct {
	Dir       string        // required: where the genesis, keys, node data and records go
	Nodes     int           // number of nodes; default 4
	Consensus string        // an engine of engines.Names(); "" is the first, pow
	BlockTime time.Duration // target block interval; default 1s
	Link      LinkParams    // shaping of every link at start
	Seed      int64         // seeds the links' loss and jitter (node i's with Seed+i)
	Binary    string        // chaind executable; default this program
	Logger    *slog.Logger  // optional
	// Backend is what runs the nodes: BackendProcesses (default),
	// BackendDocker, BackendSwarm or BackendK8s, whose containers run
	// Image.
	Backend     string
	Image       string // the chaind image of the backends but processes; default DefaultImage
	KubeContext string // kubernetes: kubectl's context; default its current one
	// Clock times the records, the scenario timeline, the transaction
	// pacing, the dashboard and the polls; optional, clock.Real. The nodes
	// (and the links they shape) are on the wall clock, so a testnet of
	// real nodes runs on clock.Real; a clock.Sim makes the parts that run
	// without them (the scenario timeline) exact in tests.
	Clock clock.Clock

	// Proof of work: each miner is held to its share of a declared total.
	HashPower []float64 // relative share of each node, such as 40,30,20,10; default equal
	Hashrate  float64   // total nonces per second of a new testnet; default 30% of what the machine can do

	// Proof of stake and BFT: every node is a validator.
	Stakes      []int64 // ether staked per node; default 32 each
	EpochLength uint64  // proof of stake's slots per epoch; default 8
	NoFinality  bool    // turn the finality gadget off
	// Byzantine maps a node index to the --validator.byzantine list that
	// node runs with (experiments).
	Byzantine map[int]string
	// Twins lists the nodes whose validator key also runs on the next node
	// (i+1 mod Nodes): the Byzantine behaviour twin, an operator's failover
	// mistake. That node serves both keys.
	Twins []int
	// Partition, when set, cuts the links between these groups before any
	// node starts (as Supervisor.Partition would, but with no block ever
	// crossing): for experiments that need the sides apart from genesis.
	Partition [][]int

	Prometheus bool // write a Prometheus scrape configuration and run prometheus when installed

	// A directory that holds a testnet from an earlier run is refused
	// unless Resume (continue its chain; the records and the report cover
	// only the new run) or Force (delete what the earlier run wrote and
	// start a new testnet) is set.
	Resume bool
	Force  bool
}

// engine is the table's entry of the options' consensus, once normalised.
func (opts *Options) engine() engines.Engine {
	e, _ := engines.Lookup(opts.Consensus)
	return e
}

// normalise checks the options and fills in the defaults.
func (opts *Options) normalise() error {
	if opts.Dir == "" {
		return errors.New("testnet: a directory is required")
	}
	if opts.Nodes == 0 {
		opts.Nodes = 4
	}
	if opts.Nodes < 1 || opts.Nodes > 64 {
		return fmt.Errorf("testnet: %d nodes; want 1 to 64", opts.Nodes)
	}
	if opts.Backend == "" {
		opts.Backend = BackendProcesses
	}
	switch opts.Backend {
	case BackendProcesses:
	case BackendDocker, BackendSwarm, BackendK8s:
		if opts.Image == "" {
			opts.Image = DefaultImage
		}
	default:
		return fmt.Errorf("testnet: backend %q: want %s, %s, %s or %s", opts.Backend, BackendProcesses, BackendDocker, BackendSwarm, BackendK8s)
	}
	if opts.Resume && opts.Force {
		return errors.New("testnet: resume or start over (force), not both")
	}
	e, err := engines.Lookup(opts.Consensus)
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	opts.Consensus = e.Name
	if e.Producers == engines.Validators {
		if len(opts.Stakes) == 0 {
			for i := 0; i < opts.Nodes; i++ {
				opts.Stakes = append(opts.Stakes, 32)
			}
		}
		if len(opts.Stakes) != opts.Nodes {
			return fmt.Errorf("testnet: %d stakes for %d nodes", len(opts.Stakes), opts.Nodes)
		}
		if opts.EpochLength == 0 && slices.Contains(e.TestnetFlags, "epoch-length") {
			opts.EpochLength = 8
		}
	} else if err := opts.normaliseHashPower(); err != nil {
		return err
	}
	if opts.BlockTime == 0 {
		opts.BlockTime = time.Second
	}
	if opts.Partition != nil {
		if err := (fault.Partition{Groups: opts.Partition}).Check(opts.Nodes); err != nil {
			return fmt.Errorf("testnet: the starting partition: %w", err)
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return nil
}

// Check says, without changing anything, whether Up would refuse these
// options: a bad value, a supervisor already running in the directory, or
// an earlier testnet there with neither Resume nor Force set. The CLI asks
// before it starts a supervisor in the background.
func (opts Options) Check() error {
	opts.Stakes, opts.HashPower = slices.Clone(opts.Stakes), slices.Clone(opts.HashPower)
	if err := opts.normalise(); err != nil {
		return err
	}
	return CheckDir(opts)
}
