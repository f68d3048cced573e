// Command chaind runs a chaind node and its tools. Each subcommand lives in
// its own file; this one only dispatches.
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/chaind/chaind/rpc"
	"github.com/spf13/pflag"
)

func commands() []command {
	return []command{
		{"node", "run a node (use --dev for a throwaway single-node chain that mines)", runNode, nil},
		{"wallet", "manage keys and send transfers (new, list, import, balance, send)", nil, walletCommands()},
		{"testnet", "run a local network of node processes with shaped links, and report on it", nil, testnetCommands()},
		{"bench", "measure the miner (mine) or transaction throughput through JSON-RPC (tx)", nil, benchCommands()},
		{"sim", "simulate attacks against consensus (doublespend) next to the closed-form results", nil, simCommands()},
		{"validator", "PoS validator tools: slashing protection (export, import)", nil, validatorCommands()},
		{"verify", "replay a data directory's chain from genesis and check every state root", runVerify, nil},
		{"repair", "accept a database that lost its newest writes, once what is left checks", runRepair, nil},
		{"version", "print the version", runVersion, nil},
	}
}

func main() {
	if err := dispatch(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return // the help went to stdout
		}
		fmt.Fprintln(os.Stderr, "chaind:", errorText(err))
		os.Exit(1)
	}
}

// errorText is err for a person: a node's JSON-RPC error reads as its
// message, without the protocol's error code.
func errorText(err error) string {
	text := err.Error()
	var re *rpc.Error
	if errors.As(err, &re) {
		text = strings.Replace(text, re.Error(), re.Message, 1)
	}
	return text
}

// summary is chaind's one-line description.
const summary = "a proof-of-work / proof-of-stake blockchain node for experiments"

func dispatch(args []string) error {
	if len(args) == 0 {
		args = []string{"--help"}
	}
	return runGroup("chaind", summary, commands(), args)
}

// newLogger builds the process logger: text lines on stderr at level.
func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("--log.level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
