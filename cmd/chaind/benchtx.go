package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/pow"
	"github.com/chaind/chaind/rpc"
	"github.com/chaind/chaind/wallet"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

type txPhase struct {
	Mode        string  `json:"mode"` // "unbatched" or "batched"
	Txs         int     `json:"txs"`
	AcceptedTPS float64 `json:"accepted_tx_per_second"`
	MinedTPS    float64 `json:"mined_tx_per_second"`
	P50Ms       float64 `json:"p50_admission_ms"` // per JSON-RPC call
	P99Ms       float64 `json:"p99_admission_ms"`
	Refused     int     `json:"refused"`
}

type txResult struct {
	Senders    int       `json:"senders"`
	Phases     []txPhase `json:"phases"`
	PeakRSSMiB float64   `json:"node_peak_rss_mib,omitempty"`
}

func benchTx(args []string) error {
	fs := newFlagSet("bench tx", "bench tx (--dev | --rpc URL --key FILE) [--senders K] [--txs N] [--batch B] [--json]")
	dev := fs.Bool("dev", false, "start a throwaway node (a separate process) that funds the senders in genesis")
	url := fs.String("rpc", "", "node to load instead of --dev")
	keyFile := fs.String("key", "", "with --rpc: file with the hex key of a funded account that pays the senders")
	senders := fs.Int("senders", 64, "number of sending accounts")
	txs := fs.Int("txs", 20000, "transfers per phase (one unbatched phase, one batched)")
	batch := fs.Int("batch", 100, "calls per JSON-RPC batch in the batched phase")
	workers := fs.Int("workers", 8*runtime.NumCPU(), "concurrent client connections")
	asJSON := fs.Bool("json", false, "print one JSON object on the last line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dev == (*url != "") {
		return errors.New("bench tx: give --dev or --rpc URL")
	}
	keys := make([]*ecdsa.PrivateKey, *senders)
	for i := range keys {
		k, err := crypto.GenerateKey()
		if err != nil {
			return err
		}
		keys[i] = k
	}
	var pid int
	var chainID *big.Int
	if *dev {
		dir, err := os.MkdirTemp("", "chaind-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		g, node, err := startBenchNode(dir, keys)
		if err != nil {
			return err
		}
		defer func() { node.Process.Signal(os.Interrupt); node.Wait() }()
		*url, pid, chainID = node.url, node.Process.Pid, new(big.Int).SetUint64(g.ChainID)
	} else {
		var err error
		if chainID, err = fundSenders(*url, *keyFile, keys, *txs); err != nil {
			return err
		}
	}
	fmt.Printf("loading %s with %d transfers per phase from %d senders (%d connections)\n", *url, *txs, *senders, *workers)
	res := txResult{Senders: *senders}
	nonce := 0
	for _, size := range []int{1, *batch} {
		per := *txs / *senders
		signed := signTransfers(keys, chainID, nonce, per)
		nonce += per
		ph, err := runPhase(*url, keys, signed, size, *workers, nonce)
		if err != nil {
			return err
		}
		fmt.Printf("  %-9s %6d txs: accepted %8.0f tx/s, mined %8.0f tx/s, admission p50 %.2f ms p99 %.2f ms per call, %d refused\n",
			ph.Mode, ph.Txs, ph.AcceptedTPS, ph.MinedTPS, ph.P50Ms, ph.P99Ms, ph.Refused)
		res.Phases = append(res.Phases, ph)
	}
	if pid != 0 {
		if rss, err := peakRSS(pid); err == nil {
			res.PeakRSSMiB = rss
			fmt.Printf("  node peak RSS: %.1f MiB\n", rss)
		}
	}
	if *asJSON {
		return printJSON(res)
	}
	return nil
}

type benchNode struct {
	*exec.Cmd
	url string
}

// startBenchNode writes a genesis funding keys and runs a mining node on it
// as a separate process.
func startBenchNode(dir string, keys []*ecdsa.PrivateKey) (*chain.Genesis, *benchNode, error) {
	const blockTime = 250 * time.Millisecond
	rate, _ := pow.MeasureHashrate(1, 200*time.Millisecond)
	g := &chain.Genesis{ChainID: 1337, Consensus: chain.ConsensusPoW, BlockTime: chain.Duration(blockTime),
		HalfLife: chain.Duration(20 * blockTime), Difficulty: chain.NewBigInt(big.NewInt(int64(rate * blockTime.Seconds()))),
		GasLimit: 2_000_000_000, Timestamp: uint64(time.Now().UnixMilli()), Alloc: chain.Alloc{}}
	for _, k := range keys {
		g.Alloc[crypto.PubkeyToAddress(k.PublicKey)] = chain.GenesisAccount{Balance: chain.NewBigInt(new(big.Int).Mul(big.NewInt(1e6), big.NewInt(1e18)))}
	}
	g.FillDefaults()
	gpath := filepath.Join(dir, "genesis.json")
	if err := g.Write(gpath); err != nil {
		return nil, nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(exe, "node", "--datadir", filepath.Join(dir, "node"), "--genesis", gpath, "--rpc.addr", "127.0.0.1:0",
		"--p2p.addr", "", "--mine", "--miner.threads", "1", "--miner.coinbase", "0x00000000000000000000000000000000000000c0", "--log.level", "warn")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "RPC:" {
			go func() {
				for sc.Scan() {
				}
			}()
			return g, &benchNode{Cmd: cmd, url: f[1]}, nil
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	return nil, nil, errors.New("bench node did not start")
}

// fundSenders pays every sender from the funded key and waits for it.
func fundSenders(url, keyFile string, keys []*ecdsa.PrivateKey, txs int) (*big.Int, error) {
	if keyFile == "" {
		return nil, errors.New("bench tx --rpc: --key FILE with a funded account is required")
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	funder, err := wallet.ParseHexKey(string(data))
	if err != nil {
		return nil, err
	}
	c := rpc.NewClient(url)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var id hexutil.Uint64
	if err := c.Call(ctx, &id, "eth_chainId"); err != nil {
		return nil, err
	}
	each := new(big.Int).Mul(big.NewInt(int64(2*txs/len(keys)+10)), big.NewInt(1e15))
	var last *types.Transaction
	for _, k := range keys {
		if last, err = wallet.Send(ctx, c, funder, crypto.PubkeyToAddress(k.PublicKey), each, wallet.SendOptions{}); err != nil {
			return nil, fmt.Errorf("fund senders: %w", err)
		}
	}
	if _, err := wallet.WaitReceipt(ctx, c, last.Hash(), 200*time.Millisecond); err != nil {
		return nil, err
	}
	return new(big.Int).SetUint64(uint64(id)), nil
}

// signTransfers signs per transfers for each key from nonce on, on all cores.
func signTransfers(keys []*ecdsa.PrivateKey, chainID *big.Int, nonce, per int) [][]hexutil.Bytes {
	out := make([][]hexutil.Bytes, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < per; n++ {
				tx, err := wallet.Transfer{ChainID: chainID, Nonce: uint64(nonce + n), To: common.Address{0xbe, byte(i)}, Value: big.NewInt(1),
					TipCap: big.NewInt(1e9), FeeCap: big.NewInt(3e9)}.Sign(k)
				if err != nil {
					panic(err) // signing a well-formed transfer with a valid key cannot fail
				}
				raw, _ := tx.MarshalBinary()
				out[i] = append(out[i], raw)
			}
		}()
	}
	wg.Wait()
	return out
}

// runPhase sends every sender's transfers in order, batchSize per call, over
// workers connections, then waits until each sender's nonce reaches target.
func runPhase(url string, keys []*ecdsa.PrivateKey, signed [][]hexutil.Bytes, batchSize, workers, target int) (txPhase, error) {
	ph := txPhase{Mode: "unbatched"}
	if batchSize > 1 {
		ph.Mode = "batched"
	}
	var mu sync.Mutex
	var lat []float64
	total := 0
	for _, txs := range signed {
		total += len(txs)
	}
	bar := newProgress(int64(total), "sending ("+ph.Mode+")", "txs")
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := rpc.NewClient(url)
			ctx := context.Background()
			for s := w; s < len(signed); s += workers {
				txs := signed[s]
				for i := 0; i < len(txs); i += batchSize {
					chunk := txs[i:min(i+batchSize, len(txs))]
					elems := make([]rpc.BatchElem, len(chunk))
					for j, raw := range chunk {
						elems[j] = rpc.BatchElem{Method: "eth_sendRawTransaction", Params: []any{raw}}
					}
					t0 := time.Now()
					var err error
					if batchSize == 1 {
						err = c.Call(ctx, nil, "eth_sendRawTransaction", chunk[0])
						elems[0].Error = err
					} else {
						err = c.BatchCall(ctx, elems)
					}
					d := float64(time.Since(t0).Microseconds()) / 1000
					mu.Lock()
					lat = append(lat, d)
					for _, e := range elems {
						if e.Error != nil || err != nil {
							ph.Refused++
						}
					}
					ph.Txs += len(chunk)
					bar.Add(len(chunk))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	bar.Finish()
	sent := time.Since(start)
	ph.AcceptedTPS = float64(ph.Txs-ph.Refused) / sent.Seconds()
	sort.Float64s(lat)
	if len(lat) > 0 {
		ph.P50Ms, ph.P99Ms = lat[len(lat)/2], lat[min(len(lat)*99/100, len(lat)-1)]
	}
	if ph.Refused > 0 {
		return ph, fmt.Errorf("%d of %d transfers refused", ph.Refused, ph.Txs)
	}
	c := rpc.NewClient(url)
	deadline := time.Now().Add(5 * time.Minute)
	for _, k := range keys {
		addr := crypto.PubkeyToAddress(k.PublicKey)
		for {
			var n hexutil.Uint64
			if err := c.Call(context.Background(), &n, "eth_getTransactionCount", addr, "latest"); err != nil {
				return ph, err
			}
			if int(n) >= target {
				break
			}
			if time.Now().After(deadline) {
				return ph, fmt.Errorf("transfers of %s not mined after 5 minutes", addr.Hex())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	ph.MinedTPS = float64(ph.Txs) / time.Since(start).Seconds()
	return ph, nil
}

// peakRSS reads a process's peak resident set size (Linux).
func peakRSS(pid int) (float64, error) {
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
