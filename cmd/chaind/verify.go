package main

import (
	"fmt"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/node"
)

func runVerify(args []string) error {
	return runOnDataDir("verify", "data directory to check (the node must not be running)", node.Verify, args,
		"ok: %d blocks replayed from genesis; head %s, state root %s\n")
}

func runRepair(args []string) error {
	return runOnDataDir("repair", "data directory whose database lost its newest writes (the node must not be running)", node.Repair, args,
		"repaired: %d blocks replayed from genesis; the node continues from head %s (state root %s) and fetches newer blocks from its peers\n")
}

// runOnDataDir runs a check on a stopped node's data directory and prints
// the head it reached with done (height, hash, state root).
func runOnDataDir(name, help string, check func(string) (*chain.Block, error), args []string, done string) error {
	fs := newFlagSet(name, name+" --datadir DIR")
	dataDir := fs.String("datadir", "", help)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" {
		return fmt.Errorf("%s: --datadir is required", name)
	}
	head, err := check(*dataDir)
	if err != nil {
		return err
	}
	fmt.Printf(done, head.Height(), head.Hash().Hex(), head.Header.StateRoot.Hex())
	return nil
}
