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
	"github.com/chaind/chaind/pow"
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
// binary) as a node on it: with consensus chain.ConsensusPoS a single
// validator with one-second slots, with chain.ConsensusPoW a node mining on
// one thread.
func StartNode(exe, dir, consensus string, keys []*ecdsa.PrivateKey) (*Node, error) {
	million := chain.NewBigInt(new(big.Int).Mul(big.NewInt(1e6), big.NewInt(1e18)))
	g := &chain.Genesis{ChainID: 1337, Consensus: consensus, GasLimit: 2_000_000_000, Timestamp: uint64(time.Now().UnixMilli()), Alloc: chain.Alloc{}}
	for _, k := range keys {
		g.Alloc[crypto.PubkeyToAddress(k.PublicKey)] = chain.GenesisAccount{Balance: million}
	}
	args := []string{"node", "--datadir", filepath.Join(dir, "node"), "--rpc.addr", "127.0.0.1:0", "--p2p.addr", "", "--log.level", "warn"}
	switch consensus {
	case chain.ConsensusPoS:
		v, err := crypto.GenerateKey()
		if err != nil {
			return nil, err
		}
		vaddr := crypto.PubkeyToAddress(v.PublicKey)
		g.SlotTime = chain.Duration(time.Second)
		g.Validators = []chain.GenesisValidator{{Address: vaddr, Stake: chain.NewBigInt(new(big.Int).Mul(big.NewInt(32), big.NewInt(1e18)))}}
		g.Alloc[vaddr] = chain.GenesisAccount{Balance: million} // for the fees of its finality votes
		keyPath := filepath.Join(dir, "validator.key")
		if err := os.WriteFile(keyPath, []byte("0x"+hex.EncodeToString(crypto.FromECDSA(v))+"\n"), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--validator.key", keyPath)
	case chain.ConsensusPoW:
		rate, _ := pow.MeasureHashrate(1, 200*time.Millisecond)
		g.BlockTime, g.HalfLife = chain.Duration(devBlockTime), chain.Duration(20*devBlockTime)
		g.Difficulty = chain.NewBigInt(big.NewInt(max(int64(rate*devBlockTime.Seconds()), 1)))
		args = append(args, "--mine", "--miner.threads", "1", "--miner.coinbase", "0x00000000000000000000000000000000000000c0")
	default:
		return nil, fmt.Errorf("loadgen: consensus %q: want %s or %s", consensus, chain.ConsensusPoS, chain.ConsensusPoW)
	}
	g.FillDefaults()
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
