package main

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/loadgen"
	"github.com/chaind/chaind/wallet"
)

func benchTx(args []string) error {
	fs := newFlagSet("bench tx", "bench tx (--dev [--consensus pos|pow] | --rpc URL [--key FILE]) [--admission-only] [--senders K] [--txs N] [--batch B] [--json]")
	dev := fs.Bool("dev", false, "start a throwaway node (a separate process) that funds the senders in genesis")
	consensus := fs.String("consensus", chain.ConsensusPoS, "with --dev: pos (one validator, no hashing) or pow (a node mining on one thread)")
	url := fs.String("rpc", "", "node to load instead of --dev")
	keyFile := fs.String("key", "", "with --rpc: file with the hex key of a funded account that pays the senders (default: the node's own unlocked account pays through eth_sendTransaction, as on geth --dev)")
	senders := fs.Int("senders", 64, "number of sending accounts")
	txs := fs.Int("txs", 20000, "transfers per phase (one unbatched phase, one batched)")
	batch := fs.Int("batch", 100, "calls per JSON-RPC batch in the batched phase")
	workers := fs.Int("workers", 8*runtime.NumCPU(), "concurrent client connections")
	admission := fs.Bool("admission-only", false, "measure admission only: end each phase when its last request is answered, without waiting until its transfers are mined")
	pid := fs.Int("node-pid", 0, "with --rpc: the node's process id, to report its CPU time per transfer (Linux)")
	asJSON := fs.Bool("json", false, "print one JSON object on the last line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dev == (*url != "") {
		return errors.New("bench tx: give --dev or --rpc URL")
	}
	keys, err := loadgen.NewKeys(*senders)
	if err != nil {
		return err
	}
	cfg := loadgen.Config{URL: *url, Keys: keys, Txs: *txs, Batch: *batch, Workers: *workers, AdmissionOnly: *admission, NodePID: *pid, Out: os.Stdout}
	var node *loadgen.Node
	if *dev {
		dir, err := os.MkdirTemp("", "chaind-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		if node, err = loadgen.StartNode(exe, dir, *consensus, keys); err != nil {
			return err
		}
		defer node.Stop()
		cfg.URL, cfg.ChainID, cfg.NodePID = node.URL, node.ChainID, node.Cmd.Process.Pid
	} else {
		var funder *ecdsa.PrivateKey
		if *keyFile != "" {
			data, err := os.ReadFile(*keyFile)
			if err != nil {
				return err
			}
			if funder, err = wallet.ParseHexKey(string(data)); err != nil {
				return err
			}
		}
		if cfg.ChainID, err = loadgen.FundSenders(*url, funder, keys, *txs); err != nil {
			return err
		}
	}
	what := "accepted, then mined"
	if *admission {
		what = "accepted (admission only: mining is not waited for)"
	}
	fmt.Printf("loading %s with %d transfers per phase from %d senders (%d connections); measuring transfers %s\n", cfg.URL, *txs, *senders, *workers, what)
	res, err := loadgen.Run(cfg)
	if err != nil {
		return err
	}
	if node != nil {
		if rss, err := loadgen.PeakRSS(node.Cmd.Process.Pid); err == nil {
			res.PeakRSSMiB = rss
			fmt.Printf("  node peak RSS: %.1f MiB\n", rss)
		}
	}
	if *asJSON {
		return printJSON(res)
	}
	return nil
}
