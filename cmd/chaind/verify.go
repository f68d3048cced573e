package main

import (
	"fmt"

	"github.com/chaind/chaind/node"
)

func runVerify(args []string) error {
	fs := newFlagSet("verify", "verify --datadir DIR")
	dataDir := fs.String("datadir", "", "data directory to check (the node must not be running)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" {
		return fmt.Errorf("verify: --datadir is required")
	}
	head, err := node.Verify(*dataDir)
	if err != nil {
		return err
	}
	fmt.Printf("ok: %d blocks replayed from genesis; head %s, state root %s\n", head.Height(), head.Hash().Hex(), head.Header.StateRoot.Hex())
	return nil
}
