package main

import (
	"fmt"
	"io"
	"os"

	"github.com/chaind/chaind/node"
)

func validatorCommands() []command {
	return []command{
		{"protection", "export or import the slashing-protection database (EIP-3076 interchange format)", nil, []command{
			{"export", "write a stopped node's slashing-protection database as an EIP-3076 file", runProtectionExport, nil},
			{"import", "merge an EIP-3076 file into a stopped node's slashing-protection database", runProtectionImport, nil},
		}},
	}
}

func runProtectionExport(args []string) error {
	fs := newFlagSet("validator protection export", "validator protection export --datadir DIR [--out FILE]")
	dataDir := fs.String("datadir", "", "data directory of the node (it must not be running)")
	out := fs.String("out", "", "file to write (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" {
		return fmt.Errorf("validator protection export: --datadir is required")
	}
	var w io.Writer = os.Stdout
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("validator protection export: %w", err)
		}
		defer f.Close()
		w = f
	}
	return node.ExportProtection(*dataDir, w)
}

func runProtectionImport(args []string) error {
	fs := newFlagSet("validator protection import", "validator protection import --datadir DIR --file FILE")
	dataDir := fs.String("datadir", "", "data directory of the node (it must not be running)")
	file := fs.String("file", "", "EIP-3076 interchange file to import")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" || *file == "" {
		return fmt.Errorf("validator protection import: --datadir and --file are required")
	}
	f, err := os.Open(*file)
	if err != nil {
		return fmt.Errorf("validator protection import: %w", err)
	}
	defer f.Close()
	rep, err := node.ImportProtection(*dataDir, f)
	if err != nil {
		return err
	}
	for _, msg := range rep.Foreign {
		fmt.Fprintln(os.Stderr, "warning:", msg)
	}
	fmt.Printf("imported the signing history of %d keys\n", rep.Keys)
	return nil
}
