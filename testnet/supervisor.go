package testnet

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/fault"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// TestnetChainID is the chain id of testnet genesis files.
const TestnetChainID = 31337

// State is DIR/testnet.json: how the CLI finds a running supervisor.
type State struct {
	Control    string         `json:"control"` // supervisor JSON-RPC URL
	PID        int            `json:"pid"`
	Genesis    string         `json:"genesis"`
	FundedKey  string         `json:"fundedKey"` // file with the funded account's hex key
	FundedAddr common.Address `json:"fundedAddress"`
	Nodes      []NodeState    `json:"nodes"`
	Prometheus string         `json:"prometheus,omitempty"` // URL of the Prometheus server (up --prometheus)
	Dashboard  string         `json:"dashboard"`            // URL of the live dashboard
}

// NodeState is one node's entry in State.
type NodeState struct {
	Index   int    `json:"index"`
	DataDir string `json:"datadir"`
	RPC     string `json:"rpc"`
	P2P     string `json:"p2p"`
	PID     int    `json:"pid"`
	Alive   bool   `json:"alive"`
}

// Supervisor runs a testnet.
type Supervisor struct {
	opts      Options
	log       *slog.Logger
	clock     clock.Clock
	binary    string
	genesis   *chain.Genesis
	gpath     string
	funded    *ecdsa.PrivateKey
	coinbases []common.Address
	net       *network
	rec       *Records
	provider  Provider

	mu      sync.Mutex
	procs   []Node
	linkIPs []string // node i's IP, under which the others hold their links to it

	ctl      *http.Server
	ctlAddr  string
	quit     chan struct{}
	down     chan struct{}
	downErr  error
	once     sync.Once
	wg       sync.WaitGroup
	txs      txSender
	prom     *promServer // with Options.Prometheus
	dash     *http.Server
	dashAddr string
	lock     *dirLock // held from Up until Down has saved everything
}

// Up writes the testnet in opts.Dir (or continues the one there, with
// opts.Resume), starts every node with its
// links set, starts recording, and serves the control API.
func Up(opts Options) (_ *Supervisor, err error) {
	if err := opts.normalise(); err != nil {
		return nil, err
	}
	lock, err := claimDir(opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.release()
		}
	}()
	binary, err := chaindBinary(opts.Binary)
	if err != nil {
		return nil, err
	}
	provider, err := newProvider(opts, binary)
	if err != nil {
		return nil, err
	}
	s := &Supervisor{opts: opts, log: opts.Logger, clock: clock.OrReal(opts.Clock), binary: binary,
		quit: make(chan struct{}), down: make(chan struct{}), procs: make([]Node, opts.Nodes), lock: lock, provider: provider}
	if err := s.prepare(); err != nil {
		return nil, err
	}
	defer func() {
		select {
		case <-s.down: // Down tore it down
		default:
			if err != nil {
				provider.Teardown()
			}
		}
	}()
	if err := provider.Setup(); err != nil {
		return nil, err
	}
	s.linkIPs = make([]string, opts.Nodes)
	for i := range s.linkIPs {
		s.linkIPs[i] = provider.PeerIP(i)
	}
	s.rec = newRecords(filepath.Join(opts.Dir, recordsFile))
	s.rec.Nodes, s.rec.Consensus, s.rec.BlockTimeMs, s.rec.Link = opts.Nodes, opts.Consensus, opts.BlockTime.Milliseconds(), opts.Link
	s.rec.StartMs = s.nowMs()
	for i, cb := range s.coinbases {
		s.rec.Producers[cb] = i
	}
	s.net = newNetwork()
	s.net.onSet = s.linkChanged
	for a := 0; a < opts.Nodes; a++ {
		for b := 0; b < opts.Nodes; b++ {
			if a != b {
				s.net.set(a, b, opts.Link) // no node runs yet: each gets its links as it starts
			}
		}
	}
	if opts.Partition != nil {
		if err := s.Partition(opts.Partition); err != nil {
			return nil, err
		}
	}
	if err := s.serveControl(); err != nil {
		return nil, err
	}
	if err := s.serveDashboard(); err != nil {
		s.Down()
		return nil, err
	}
	if opts.Prometheus {
		if err := s.startPrometheus(); err != nil {
			s.Down()
			return nil, err
		}
	}
	for i := 0; i < opts.Nodes; i++ {
		if err := s.startNode(i); err != nil {
			s.Down()
			return nil, err
		}
	}
	s.rec.action(s.nowMs(), "start %d nodes", opts.Nodes)
	for i := 0; i < opts.Nodes; i++ {
		s.wg.Add(1)
		go s.watch(i)
	}
	s.wg.Add(1)
	go s.saveLoop()
	return s, nil
}

func (s *Supervisor) nodeDir(i int) string {
	return filepath.Join(s.opts.Dir, fmt.Sprintf("node%d", i))
}

// startNode runs node i through the provider, its peers every other node's
// own address, and sets its links.
func (s *Supervisor) startNode(i int) error {
	var peers []string
	for j := 0; j < s.opts.Nodes; j++ {
		if j != i {
			peers = append(peers, s.provider.PeerAddr(j))
		}
	}
	if err := os.MkdirAll(s.nodeDir(i), 0o755); err != nil {
		return err
	}
	args := NodeArgs{"--datadir", s.nodeDir(i), "--genesis", s.gpath, "--p2p.nodiscover", "--p2p.linkfaults", "--p2p.linkseed", fmt.Sprint(s.opts.Seed + int64(i)),
		"--rpc.api", "eth,net,web3,txpool,chaind,admin,miner,link"} // the supervisor stops the miners at the end and sets the links
	if s.opts.engine().Producers == engines.Validators {
		keys := s.validatorKeyPath(i)
		if prev := (i + s.opts.Nodes - 1) % s.opts.Nodes; prev != i && slices.Contains(s.opts.Twins, prev) {
			keys += "," + s.validatorKeyPath(prev)
		}
		args = append(args, "--validator.key", keys, "--validator.password", filepath.Join(s.opts.Dir, passwordFile))
		if b := s.opts.Byzantine[i]; b != "" {
			args = append(args, "--validator.byzantine", b)
		}
	} else {
		args = append(args, "--mine", "--miner.threads", "1", "--miner.hashrate", s.minerHashrate(i), "--miner.coinbase", s.coinbases[i].Hex())
	}
	if len(peers) > 0 {
		args = append(args, "--peers", strings.Join(peers, ","))
	}
	if err := s.writeNodeLinks(i); err != nil {
		return err
	}
	args = append(args, "--p2p.links", s.linksFile(i))
	p, err := s.provider.StartNode(i, filepath.Join(s.nodeDir(i), "node.log"), args)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.procs[i] = p
	s.mu.Unlock()
	if err := s.setNodeLinks(i); err != nil {
		p.Kill()
		return err
	}
	if err := s.followPeer(i); err != nil {
		p.Kill()
		return err
	}
	s.log.Info("Node started", "node", i, "backend", s.opts.Backend, "rpc", p.RPCURL(), "pid", p.PID())
	return s.writeState()
}

// State describes the testnet now.
func (s *Supervisor) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Control: "http://" + s.ctlAddr, PID: os.Getpid(), Genesis: s.gpath, FundedKey: filepath.Join(s.opts.Dir, "funded.key"),
		FundedAddr: crypto.PubkeyToAddress(s.funded.PublicKey)}
	if s.prom != nil {
		st.Prometheus = s.prom.url
	}
	if s.dashAddr != "" {
		st.Dashboard = s.DashboardURL()
	}
	for i, p := range s.procs {
		ns := NodeState{Index: i, DataDir: s.nodeDir(i)}
		if p != nil {
			ns.RPC, ns.P2P, ns.PID, ns.Alive = p.RPCURL(), p.P2PAddr(), p.PID(), p.Alive()
		}
		st.Nodes = append(st.Nodes, ns)
	}
	return st
}

func (s *Supervisor) writeState() error {
	if err := s.writeTargets(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(s.State(), "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(s.opts.Dir, "testnet.json")
	if err := os.WriteFile(path+".tmp", data, 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// ReadState reads DIR/testnet.json.
func ReadState(dir string) (*State, error) {
	data, err := os.ReadFile(filepath.Join(dir, "testnet.json"))
	if err != nil {
		return nil, fmt.Errorf("no testnet in %s: %w", dir, err)
	}
	st := new(State)
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("testnet.json: %w", err)
	}
	return st, nil
}

func (s *Supervisor) proc(i int) (Node, error) {
	if i < 0 || i >= s.opts.Nodes {
		return nil, fmt.Errorf("no node %d (the testnet has %d)", i, s.opts.Nodes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.procs[i], nil
}

// Kill sends SIGKILL to node i.
func (s *Supervisor) Kill(i int) error {
	p, err := s.proc(i)
	if err != nil {
		return err
	}
	if p == nil || !p.Alive() {
		return fmt.Errorf("node %d is not running", i)
	}
	p.Kill()
	s.rec.action(s.nowMs(), "%s", fault.Kill{Node: i})
	s.log.Info("Node killed", "node", i)
	return s.writeState()
}

// Restart starts node i again on its data directory (after Kill).
func (s *Supervisor) Restart(i int) error {
	p, err := s.proc(i)
	if err != nil {
		return err
	}
	if p != nil && p.Alive() {
		return fmt.Errorf("node %d is running; kill it first", i)
	}
	if err := s.startNode(i); err != nil {
		return err
	}
	s.rec.action(s.nowMs(), "%s", fault.Restart{Node: i})
	return nil
}

// Partition cuts every link between nodes of different groups; nodes not
// named form a group of their own.
func (s *Supervisor) Partition(groups [][]int) error {
	part := fault.Partition{Groups: groups}
	if err := part.Check(s.opts.Nodes); err != nil {
		return err
	}
	group := make(map[int]int)
	for g, nodes := range groups {
		for _, n := range nodes {
			group[n] = g
		}
	}
	for n := 0; n < s.opts.Nodes; n++ {
		if _, ok := group[n]; !ok {
			group[n] = len(groups)
		}
	}
	for a := 0; a < s.opts.Nodes; a++ {
		for b := 0; b < s.opts.Nodes; b++ {
			if a != b {
				p := s.net.get(a, b)
				p.Cut = group[a] != group[b]
				s.net.set(a, b, p)
			}
		}
	}
	s.rec.action(s.nowMs(), "%s", part)
	s.log.Info("Partitioned", "groups", fmt.Sprint(groups))
	return nil
}

// Heal reconnects every link.
func (s *Supervisor) Heal() {
	for a := 0; a < s.opts.Nodes; a++ {
		for b := 0; b < s.opts.Nodes; b++ {
			if a != b {
				p := s.net.get(a, b)
				p.Cut = false
				s.net.set(a, b, p)
			}
		}
	}
	s.rec.action(s.nowMs(), "%s", fault.Heal{})
	s.log.Info("Healed")
}

// SetLink changes the shaping of the link from a to b.
func (s *Supervisor) SetLink(a, b int, p LinkParams) error {
	set := fault.SetLink{From: a, To: b, Link: p}
	if err := set.Check(s.opts.Nodes); err != nil {
		return err
	}
	p.Cut = s.net.get(a, b).Cut
	s.net.set(a, b, p)
	s.rec.action(s.nowMs(), "%s", set)
	return nil
}

// recordLinks saves every link's shaping as it is now into the records.
func (s *Supervisor) recordLinks() {
	var links []LinkRec
	for a := 0; a < s.opts.Nodes; a++ {
		for b := 0; b < s.opts.Nodes; b++ {
			if a != b {
				links = append(links, LinkRec{From: a, To: b, Params: s.net.get(a, b)})
			}
		}
	}
	s.rec.mu.Lock()
	s.rec.FinalLinks = links
	s.rec.mu.Unlock()
}

// nowMs is the supervisor's clock in Unix milliseconds, the unit of the
// records.
func (s *Supervisor) nowMs() int64 { return s.clock.Now().UnixMilli() }

// Wait blocks until the testnet is taken down (Down, or testnet_down).
func (s *Supervisor) Wait() error {
	<-s.down
	return s.downErr
}

// Down stops recording, stops every node cleanly, saves the records and the
// state, and closes the control API.
func (s *Supervisor) Down() error {
	s.once.Do(func() {
		s.txs.stop()
		s.finishRecords()
		close(s.quit)
		s.wg.Wait()
		s.mu.Lock()
		procs := append([]Node(nil), s.procs...)
		s.mu.Unlock()
		var wg sync.WaitGroup
		for _, p := range procs {
			if p != nil {
				wg.Add(1)
				go func() { defer wg.Done(); p.Stop(15 * time.Second) }() // wall-clock: an OS process
			}
		}
		wg.Wait()
		s.stopPrometheus()
		s.recordLinks()
		s.rec.EndMs = s.nowMs()
		errs := []error{s.rec.save(), s.writeState(), s.provider.Teardown()}
		for _, srv := range []*http.Server{s.dash, s.ctl} {
			if srv != nil {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second) // wall-clock: an HTTP server's sockets
				srv.Shutdown(ctx)
				cancel()
			}
		}
		s.downErr = errors.Join(errs...)
		s.lock.release()
		s.log.Info("Testnet down", "dir", s.opts.Dir)
		close(s.down)
	})
	return s.downErr
}

// Genesis is the testnet's genesis.
func (s *Supervisor) Genesis() *chain.Genesis { return s.genesis }

// Dir is the testnet directory.
func (s *Supervisor) Dir() string { return s.opts.Dir }

// Print writes what a user needs to start using the testnet.
func (s *Supervisor) Print(w io.Writer) {
	st := s.State()
	fmt.Fprintf(w, "chaind testnet: %d %s nodes in %s\n", s.opts.Nodes, s.opts.Consensus, s.opts.Dir)
	fmt.Fprintf(w, "  Dashboard: %s\n", s.DashboardURL())
	for _, n := range st.Nodes {
		fmt.Fprintf(w, "  node %d  RPC %s  pid %d\n", n.Index, n.RPC, n.PID)
	}
	fmt.Fprintf(w, "  funded account %s, key in %s\n", st.FundedAddr.Hex(), st.FundedKey)
	if u, err := s.PrometheusURL(); err == nil {
		fmt.Fprintf(w, "  Prometheus: %s (try chaind_head_height)\n", u)
	} else if s.prom != nil {
		fmt.Fprintf(w, "  Prometheus: %v\n", err)
	}
	fmt.Fprintf(w, "  control: chaind testnet status|partition|heal|kill|restart|set-link|down --dir %s\n", s.opts.Dir)
}

func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
