package netsim

import (
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"math/rand/v2"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/linkmodel"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/pos"
	"github.com/chaind/chaind/pow"
	"github.com/chaind/chaind/testnet"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Config describes one simulated run.
type Config struct {
	// Consensus is chain.ConsensusPoW (the default) or chain.ConsensusPoS.
	Consensus string
	Nodes     int           // number of nodes; required
	BlockTime time.Duration // target block interval (PoS: the slot); required
	// EpochLength is the PoS epoch in slots; 0 keeps the genesis default.
	EpochLength uint64
	// Validators is the number of PoS validators; 0 gives one per node.
	// Validator j runs on node j mod Nodes, so a node serves several when
	// there are more validators than nodes (as a beacon node does) and
	// none when there are fewer (an observer).
	Validators int
	// Stakes is each PoS validator's share of the stake; nil gives every
	// validator an equal share.
	Stakes []float64
	// Byzantine makes all the PoS validators of the nodes it names
	// misbehave. With pos.ByzTwin the next node (i+1 mod Nodes) runs node
	// i's validator keys too, so two nodes sign with them.
	Byzantine map[int]pos.Behaviour
	// ForkChoice is the PoS fork-choice rule of every node
	// (pos.ForkChoiceGhost or pos.ForkChoiceLongest); "" is the default.
	ForkChoice string
	// NoFinality turns the PoS finality gadget off (longest chain only).
	NoFinality bool
	// Blocks ends the run once the heaviest chain is this high; Duration
	// ends it at this simulated time. At least one is required.
	Blocks   uint64
	Duration time.Duration
	// BlockSize is the simulated payload of every block in bytes: it costs
	// transfer time on every link and validation time at every node.
	BlockSize int
	// Network models latency and bandwidth; required.
	Network Network
	// Peers is each node's number of neighbours (a random regular graph);
	// Nodes-1 or more links every pair.
	Peers int
	// HashPower is each node's share of the hash power; nil gives every node
	// an equal share. Shares are normalised; a zero share mines nothing.
	HashPower []float64
	// HalfLife is the difficulty rule's half-life; 0 keeps the genesis
	// default. A very long one holds the difficulty nearly constant, as
	// models that count blocks rather than work assume.
	HalfLife time.Duration
	// Steps is a testnet scenario's timeline (partition, heal, kill,
	// restart, stop), at simulated times from the start.
	Steps []testnet.Step
	// Selfish, when positive, makes node 0 a selfish miner with this share
	// of the hash power (the others share the rest as HashPower says).
	Selfish float64
	// Validation is the time a node takes to check a block before it
	// relays it: Processing plus BlockSize at ValidationRate bytes/s.
	Processing     time.Duration
	ValidationRate float64
	// TxRate is how many transactions arrive per simulated second, each
	// at a random node (a Poisson process); 0 sends none. With it, blocks
	// carry real transactions up to BlockSize bytes instead of a simulated
	// payload.
	TxRate float64
	// Relay is how nodes pass blocks and transactions on: RelayPush (the
	// default) or RelayAnnounce.
	Relay Relay
	Seed  uint64
	// Progress, when set, is called about every second of wall time.
	Progress func(Progress)
	// Finished, when set, is called once the run has ended, while every
	// node is still open (a heap profile taken there holds the nodes).
	Finished func()
	Logger   *slog.Logger
}

// Progress is a snapshot of a running simulation.
type Progress struct {
	SimTime     time.Duration
	Height      uint64
	Blocks      int
	Events      uint64
	EventsPerS  float64
	WallElapsed time.Duration
}

// Result is what a run produced.
type Result struct {
	Records *testnet.Records
	Report  *testnet.Report
	Selfish *SelfishResult // with Config.Selfish
	Events  uint64         // simulation events processed
	Refused int            // blocks nodes refused by rule (PoS: rivals of a finalized checkpoint, Byzantine blocks)
	// Slashed (PoS) lists the validators slashed on the highest head at
	// the end, by index in the genesis's validator list.
	Slashed []int
	// SlashedOn (PoS) lists, per node, the validators slashed on its head
	// at the end.
	SlashedOn [][]int
	// Byzantine is each misbehaving validator (Config.Byzantine) and
	// whether the best chain slashed it.
	Byzantine []ByzantineResult
	Wall      time.Duration // wall time of the run
}

// genesisTime is the simulated time at which every run starts.
var genesisTime = time.UnixMilli(1_700_000_000_000)

// difficulty of the genesis block: the hash power is declared relative to it,
// so its value only sets the scale.
var genesisDifficulty = big.NewInt(1 << 40)

type node struct {
	id      int
	store   *chain.Store
	chain   *chain.Chain
	peers   []int
	share   float64
	mining  clock.Timer                 // the pending block-found event, if any (PoW)
	uplink  linkmodel.Queue             // the node uploads one message at a time
	down    bool                        // killed: neither mines nor receives
	seen    map[common.Hash]bool        // blocks that reached the node
	orphans map[common.Hash][]*delivery // blocks waiting for their parent, by parent hash
	pool    *mempool.Pool               // with Config.TxRate, and for PoS
	txSeen  map[common.Hash]bool        // transactions that reached the node
	// requested holds, for each message the node has asked a peer for (with
	// RelayAnnounce), the other peers that announced it, to ask next.
	requested map[common.Hash][]int
	// address names the node as a block's producer (PoW); PoS: the
	// node's validator (nil when it serves no key), the addresses of its
	// keys, its finalized checkpoint.
	address    common.Address
	engine     *pos.Engine // PoS
	validator  *pos.Validator
	protection *pos.Protection // the validator's slashing-protection database
	validators map[common.Address]bool
	finalized  common.Hash
}

type sim struct {
	cfg     Config
	clk     *clock.Sim
	rng     *rand.Rand
	nodes   []*node
	rec     *testnet.Records
	events  uint64
	maxH    uint64
	stopped bool // no more blocks are mined; deliveries in flight still land
	genesis *chain.Genesis
	// hashesPerSec is the network's total hash rate: the genesis difficulty
	// over the block time, so that blocks come every BlockTime at first.
	hashesPerSec float64
	selfish      *selfishMiner // with Config.Selfish
	blocks       map[common.Hash]*blockInfo
	group        []int     // partition group of each node while partitioned, else nil
	txSrc        *txSource // with Config.TxRate
	txs          map[common.Hash]*txInfo
	sysMsgs      map[common.Hash]*consensusMsg // PoS: votes and evidence the validators sent
	refused      int                           // blocks a node refused by rule (PoS: rivals of its finalized checkpoint, Byzantine blocks)
	posEngine    *pos.Engine                   // PoS: one node's engine, to read the final state's slashings
	shared       *chain.SharedBlobs            // the blocks and state nodes every node's store holds, once
}

// Run simulates cfg to the end and reports.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	start := time.Now()
	s, err := newSim(cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if cfg.Consensus == chain.ConsensusPoS {
		s.scheduleSlot(1)
	}
	for i := range s.nodes {
		s.scheduleMining(s.nodes[i])
	}
	if cfg.TxRate > 0 {
		s.scheduleTx()
	}
	lastProgress := time.Now()
	for s.clk.Step() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.events++
		if cfg.Duration > 0 && !s.stopped && s.clk.Now().Sub(genesisTime) >= cfg.Duration {
			s.stop()
		}
		if cfg.Progress != nil && time.Since(lastProgress) >= time.Second {
			lastProgress = time.Now()
			cfg.Progress(s.progress(time.Since(start)))
		}
	}
	s.finish()
	if cfg.Finished != nil {
		cfg.Finished()
	}
	res := &Result{Records: s.rec, Report: testnet.Compute(s.rec), Events: s.events, Refused: s.refused, Slashed: s.slashed(), SlashedOn: s.slashedOn(), Byzantine: s.byzantineResults()}
	if s.selfish != nil {
		res.Selfish = s.selfish.result(res.Report)
	}
	res.Wall = time.Since(start)
	return res, nil
}

func (cfg *Config) check() error {
	var errs []error
	switch cfg.Consensus {
	case "":
		cfg.Consensus = chain.ConsensusPoW
	case chain.ConsensusPoW, chain.ConsensusPoS:
	default:
		errs = append(errs, fmt.Errorf("consensus %q: want %s or %s", cfg.Consensus, chain.ConsensusPoW, chain.ConsensusPoS))
	}
	if cfg.Consensus == chain.ConsensusPoS && (cfg.HashPower != nil || cfg.Selfish > 0) {
		errs = append(errs, errors.New("hash power and a selfish miner are proof of work's; give stakes and Byzantine validators"))
	}
	if cfg.Consensus != chain.ConsensusPoS && (cfg.Stakes != nil || len(cfg.Byzantine) > 0) {
		errs = append(errs, errors.New("stakes and Byzantine validators are proof of stake's"))
	}
	if cfg.Validators < 0 || (cfg.Validators > 0 && cfg.Consensus != chain.ConsensusPoS) {
		errs = append(errs, fmt.Errorf("%d validators: want a positive number, and proof of stake", cfg.Validators))
	}
	if cfg.Stakes != nil && len(cfg.Stakes) != cfg.ValidatorCount() {
		errs = append(errs, fmt.Errorf("%d stakes for %d validators", len(cfg.Stakes), cfg.ValidatorCount()))
	}
	for _, st := range cfg.Stakes {
		if !(st > 0) || math.IsInf(st, 0) {
			errs = append(errs, fmt.Errorf("stake %v is not a positive number", st))
		}
	}
	for i, b := range cfg.Byzantine {
		if i < 0 || i >= min(cfg.Nodes, cfg.ValidatorCount()) {
			errs = append(errs, fmt.Errorf("byzantine node %d: nodes 0 to %d serve validators", i, min(cfg.Nodes, cfg.ValidatorCount())-1))
		}
		if b&pos.ByzTwin != 0 && cfg.Nodes < 2 {
			errs = append(errs, fmt.Errorf("byzantine node %d: a twin needs a second node to run on", i))
		}
	}
	if cfg.Nodes < 1 {
		errs = append(errs, errors.New("nodes must be at least 1"))
	}
	if cfg.BlockTime <= 0 {
		errs = append(errs, errors.New("block time must be positive"))
	}
	if cfg.Blocks == 0 && cfg.Duration <= 0 {
		errs = append(errs, errors.New("give a number of blocks or a duration"))
	}
	if cfg.Network == nil {
		errs = append(errs, errors.New("a network model is required"))
	}
	if cfg.BlockSize < 0 {
		errs = append(errs, errors.New("block size must not be negative"))
	}
	if cfg.HashPower != nil && len(cfg.HashPower) != cfg.Nodes {
		errs = append(errs, fmt.Errorf("%d hash-power shares for %d nodes", len(cfg.HashPower), cfg.Nodes))
	}
	total := 0.0
	for _, h := range cfg.HashPower {
		if h < 0 || math.IsNaN(h) || math.IsInf(h, 0) {
			errs = append(errs, fmt.Errorf("hash-power share %v is not a non-negative number", h))
		}
		total += h
	}
	if cfg.HashPower != nil && total <= 0 {
		errs = append(errs, errors.New("the hash-power shares add up to zero"))
	}
	if cfg.Selfish < 0 || cfg.Selfish >= 1 || (cfg.Selfish > 0 && cfg.Nodes < 2) {
		errs = append(errs, errors.New("a selfish share must be in [0, 1) with at least two nodes"))
	}
	if cfg.Peers < 1 && cfg.Nodes > 1 {
		errs = append(errs, errors.New("peers must be at least 1"))
	}
	if cfg.ValidationRate < 0 || cfg.Processing < 0 {
		errs = append(errs, errors.New("validation time must not be negative"))
	}
	if cfg.TxRate < 0 || math.IsNaN(cfg.TxRate) || math.IsInf(cfg.TxRate, 0) {
		errs = append(errs, errors.New("the transaction rate must be a non-negative number"))
	}
	if cfg.TxRate > 0 && cfg.BlockSize < minTxBlock {
		errs = append(errs, fmt.Errorf("with transactions the block size (%d bytes) is a block's capacity: give at least %d", cfg.BlockSize, minTxBlock))
	}
	if cfg.Relay != RelayPush && cfg.Relay != RelayAnnounce {
		errs = append(errs, fmt.Errorf("relay %d: want push or announce", cfg.Relay))
	}
	return errors.Join(errs...)
}

func newSim(cfg Config) (*sim, error) {
	s := &sim{
		cfg:     cfg,
		clk:     clock.NewSim(genesisTime),
		blocks:  map[common.Hash]*blockInfo{},
		txs:     map[common.Hash]*txInfo{},
		sysMsgs: map[common.Hash]*consensusMsg{},
		shared:  chain.NewSharedBlobs(),
		rng:     rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
	}
	spec := engines.Spec{Consensus: cfg.Consensus, ChainID: 7357, Timestamp: uint64(genesisTime.UnixMilli()), BlockTime: cfg.BlockTime}
	if cfg.TxRate > 0 {
		spec.GasLimit = txGasLimit(cfg.BlockSize)
	}
	var keys []*ecdsa.PrivateKey
	if cfg.Consensus == chain.ConsensusPoS {
		keys = posGenesis(cfg, &spec)
	} else {
		spec.Difficulty, spec.HalfLife = genesisDifficulty, cfg.HalfLife
		spec.MaxFuture = max(15*time.Second, cfg.BlockTime/4)
	}
	gen, err := engines.Genesis(spec)
	if err != nil {
		return nil, fmt.Errorf("simulation genesis: %w", err)
	}
	s.genesis = gen
	if cfg.TxRate > 0 {
		src, err := newTxSource(cfg.Seed, s.genesis)
		if err != nil {
			return nil, err
		}
		s.txSrc = src
	}
	cfg.Network.Assign(cfg.Nodes, s.rng)
	adj, err := randomRegular(cfg.Nodes, cfg.Peers, s.rng)
	if err != nil {
		return nil, err
	}
	shares := normalised(cfg.HashPower, cfg.Nodes)
	if cfg.Selfish > 0 {
		rest := 1 - shares[0]
		for i := 1; i < len(shares); i++ {
			shares[i] *= (1 - cfg.Selfish) / rest
		}
		shares[0] = cfg.Selfish
	}
	s.rec = &testnet.Records{
		Nodes: cfg.Nodes, Consensus: cfg.Consensus, BlockTimeMs: cfg.BlockTime.Milliseconds(),
		Link:      testnet.LinkParams{Latency: cfg.Network.Median()},
		StartMs:   genesisTime.UnixMilli(),
		Producers: map[common.Address]int{}, Blocks: map[common.Hash]*testnet.BlockRec{},
		FinalHeads: map[int]common.Hash{}, Finalized: map[int][]testnet.FinalizedRec{},
	}
	powEngine := engine{real: pow.New(1)}
	for i := range cfg.Nodes {
		var (
			eng       chain.Engine = powEngine
			posEngine *pos.Engine
		)
		n := &node{id: i, peers: adj[i], share: shares[i], address: coinbase(i),
			seen: map[common.Hash]bool{}, orphans: map[common.Hash][]*delivery{},
			txSeen: map[common.Hash]bool{}, requested: map[common.Hash][]int{}}
		if keys != nil {
			if posEngine, err = s.posNode(n, keys); err != nil {
				s.close()
				return nil, fmt.Errorf("node %d: %w", i, err)
			}
			eng, n.share, s.posEngine = posEngine, 0, posEngine
		}
		store := chain.OpenSimStore(s.shared)
		c, err := chain.Open(chain.Config{Store: store, Genesis: s.genesis, Engine: eng, Clock: s.clk, Logger: quiet})
		if err != nil {
			store.Close()
			s.close()
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		n.store, n.chain, n.engine = store, c, posEngine
		s.nodes = append(s.nodes, n)
		s.rec.Producers[n.address] = i
		for addr := range n.validators {
			s.rec.Producers[addr] = i
		}
		c.Subscribe(func(ev chain.HeadEvent) { s.onHead(n, ev) })
		if cfg.TxRate > 0 || posEngine != nil {
			newPoolFor(n)
		}
		if len(n.validators) > 0 {
			if err := s.startValidator(n, posEngine, cfg.Byzantine[i]); err != nil {
				s.close()
				return nil, fmt.Errorf("node %d: %w", i, err)
			}
		}
	}
	s.hashesPerSec = float64(genesisDifficulty.Int64()) / cfg.BlockTime.Seconds()
	if cfg.Selfish > 0 {
		s.selfish = &selfishMiner{node: s.nodes[0]}
	}
	if err := s.schedule(cfg.Steps); err != nil {
		s.close()
		return nil, fmt.Errorf("scenario: %w", err)
	}
	g := s.nodes[0].chain.GenesisHeader()
	s.rec.Blocks[g.Hash()] = &testnet.BlockRec{Hash: g.Hash(), SeenMs: map[int]int64{}}
	return s, nil
}

// quiet drops the chains' own logs: a thousand nodes would drown the output.
var quiet = slog.New(slog.DiscardHandler)

func normalised(shares []float64, n int) []float64 {
	out := make([]float64, n)
	total := 0.0
	for i := range out {
		out[i] = 1
		if shares != nil {
			out[i] = shares[i]
		}
		total += out[i]
	}
	for i := range out {
		out[i] /= total
	}
	return out
}

// coinbase is node i's reward address: it names the producer of a block.
// It is a hash of i, like a real address, so that the coinbases spread over
// the state tree's buckets (the chain buckets accounts by their first bits):
// consecutive numbers would all share one bucket, and every import would
// rehash every coinbase credited so far.
func coinbase(i int) common.Address {
	return common.BytesToAddress(crypto.Keccak256(binary.BigEndian.AppendUint64([]byte("chaind/netsim/coinbase"), uint64(i))))
}

func (s *sim) close() {
	for _, n := range s.nodes {
		n.store.Close()
		if n.protection != nil {
			n.protection.Close()
		}
	}
}
