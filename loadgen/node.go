package loadgen

import (
	"bufio"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/pow"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Node is a throwaway node process started by StartNode.
type Node struct {
	Cmd     *exec.Cmd
	URL     string   // its JSON-RPC endpoint
	ChainID *big.Int // its chain id
}

// Stop interrupts the node and waits for it to exit.
func (n *Node) Stop() error {
	if err := n.Cmd.Process.Signal(os.Interrupt); err != nil {
		return err
	}
	return n.Cmd.Wait()
}

const devBlockTime = 250 * time.Millisecond // PoW: blocks come often, so mined tx/s follows intake

// StartNode writes a genesis in dir funding keys and runs exe (a chaind
// binary) as a node on it: with an engine of validators (pos) a single
// validator with one-second slots, with one of miners (pow) a node mining on
// one thread.
func StartNode(exe, dir, consensus string, keys []*ecdsa.PrivateKey) (*Node, error) {
	funded := make([]common.Address, len(keys))
	for i, k := range keys {
		funded[i] = crypto.PubkeyToAddress(k.PublicKey)
	}
	args := []string{"node", "--datadir", filepath.Join(dir, "node"), "--rpc.addr", "127.0.0.1:0", "--p2p.addr", "", "--log.level", "warn"}
	e, err := engines.Lookup(consensus)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	var validator common.Address
	var rate float64
	if e.Producers == engines.Validators {
		v, err := crypto.GenerateKey()
		if err != nil {
			return nil, err
		}
		validator = crypto.PubkeyToAddress(v.PublicKey)
		keyPath := filepath.Join(dir, "validator.key")
		if err := os.WriteFile(keyPath, []byte("0x"+hex.EncodeToString(crypto.FromECDSA(v))+"\n"), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--validator.key", keyPath)
	} else {
		rate, _ = pow.MeasureHashrate(1, 200*time.Millisecond)
		args = append(args, "--mine", "--miner.threads", "1", "--miner.coinbase", "0x00000000000000000000000000000000000000c0")
	}
	spec := nodeSpec(e, funded, validator, rate, uint64(time.Now().UnixMilli()))
	g, err := engines.Genesis(spec)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	gpath := filepath.Join(dir, "genesis.json")
	if err := g.Write(gpath); err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, append(args, "--genesis", gpath)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "RPC:" {
			go func() {
				for sc.Scan() {
				}
			}()
			return &Node{Cmd: cmd, URL: f[1], ChainID: new(big.Int).SetUint64(g.ChainID)}, nil
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	return nil, errors.New("loadgen: the node did not start")
}

// nodeSpec is the genesis spec of StartNode's chain, made at timestamp: each
// funded address holds a million ether; a PoS chain has one validator (with
// as much, for the fees of its finality votes) and one-second slots, a PoW
// chain blocks every devBlockTime at hashrate.
func nodeSpec(e engines.Engine, funded []common.Address, validator common.Address, hashrate float64, timestamp uint64) engines.Spec {
	spec := engines.Spec{Consensus: e.Name, ChainID: 1337, GasLimit: 2_000_000_000, Timestamp: timestamp, Alloc: chain.Alloc{}}
	for _, a := range funded {
		spec.Alloc[a] = chain.GenesisAccount{Balance: chain.NewBigInt(engines.Ether(1e6))}
	}
	if e.Producers == engines.Validators {
		spec.BlockTime = time.Second
		spec.Validators = []engines.Validator{{Address: validator, Stake: engines.Ether(32), Balance: engines.Ether(1e6)}}
	} else {
		spec.BlockTime, spec.HalfLife, spec.Difficulty = devBlockTime, 20*devBlockTime, engines.DifficultyFor(hashrate, devBlockTime)
	}
	return spec
}

// ProcessCPU reads the CPU time (user and system) a process has used so far
// (Linux: /proc/PID/stat, in clock ticks of 1/100 s).
func ProcessCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, may hold spaces; the fields after it are fixed.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %.100q", pid, data)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %.100q", pid, data)
	}
	var ticks int64
	for _, s := range f[11:13] { // utime and stime, fields 14 and 15
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// PeakRSS reads a process's peak resident set size in MiB (Linux).
func PeakRSS(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}
