// Command chaind runs a chaind node and its tools. Each subcommand lives in
// its own file; this one only dispatches.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

type command struct {
	name    string
	summary string
	run     func(args []string) error
}

func commands() []command {
	return []command{
		{"node", "run a node (use --dev for a throwaway single-node chain that mines)", runNode},
		{"wallet", "manage keys and send transfers (new, list, import, balance, send)", runWallet},
		{"testnet", "run a local network of node processes with shaped links, and report on it", runTestnet},
		{"bench", "measure the miner (mine) or transaction throughput through JSON-RPC (tx)", runBench},
		{"sim", "simulate attacks against consensus (doublespend) next to the closed-form results", runSim},
		{"verify", "replay a data directory's chain from genesis and check every state root", runVerify},
		{"repair", "accept a database that lost its newest writes, once what is left checks", runRepair},
		{"version", "print the version", runVersion},
	}
}

func main() {
	if err := dispatch(os.Args[1:]); err != nil {
		if !errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "chaind:", err)
		}
		os.Exit(1)
	}
}

func dispatch(args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(os.Stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:])
		}
	}
	usage(os.Stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "chaind: a proof-of-work / proof-of-stake blockchain node for experiments\n\nUsage: chaind <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'chaind <command> --help' for a command's flags.")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name, synopsis string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: chaind %s\n\nFlags:\n%s", synopsis, fs.FlagUsages())
	}
	return fs
}

// newLogger builds the process logger: text lines on stderr at level.
func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("--log.level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
