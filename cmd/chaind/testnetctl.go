package main

// The commands that steer a running testnet through its supervisor's
// control socket: status, partition, heal, kill, restart, set-link, send.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/testnet"
	"github.com/spf13/pflag"
)

// control finds the running testnet of the --dir flag.
func control(name, synopsis string, args []string, extra func(fs *pflag.FlagSet)) (*testnet.Control, *pflag.FlagSet, error) {
	fs := newFlagSet("testnet "+name, "testnet "+synopsis)
	dir := dirFlag(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	c, err := testnet.Dial(*dir)
	return c, fs, err
}

func call(c *testnet.Control, result any, method string, params ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return c.Call(ctx, result, method, params...)
}

func testnetStatus(args []string) error {
	c, _, err := control("status", "status [--dir DIR]", args, nil)
	if err != nil {
		return err
	}
	var st []testnet.NodeStatus
	if err := call(c, &st, "testnet_status"); err != nil {
		return err
	}
	g, err := chain.LoadGenesis(c.State.Genesis)
	if err != nil {
		return err
	}
	return writeStatus(os.Stdout, st, g.Consensus)
}

// writeStatus prints one line per node; the miner column is for an engine
// of miners, the finalized one for an engine of validators, and the round
// one (round/step of the state machine) for an engine of rounds.
func writeStatus(out io.Writer, st []testnet.NodeStatus, consensus string) error {
	e, _ := engines.Lookup(consensus)
	validators := e.Producers == engines.Validators
	rounds := slices.ContainsFunc(st, func(n testnet.NodeStatus) bool { return n.Round != nil })
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	last := "MINER"
	if validators {
		last = "FINALIZED"
	}
	if rounds {
		last += "\tROUND"
	}
	fmt.Fprintf(w, "NODE\tSTATE\tHEIGHT\tHEAD\tPEERS\tMEMPOOL\t%s\tRPC\n", last)
	for _, n := range st {
		if !n.Alive {
			fmt.Fprintf(w, "%d\tdown\t\t\t\t\t\t\n", n.Index)
			continue
		}
		col := "stopped"
		switch {
		case validators && n.Finalized != nil:
			col = strconv.FormatUint(*n.Finalized, 10)
		case validators:
			col = "none"
		case n.Mining:
			col = fmt.Sprintf("%.2f MH/s", n.Hashrate/1e6)
		}
		switch {
		case n.Round != nil:
			col += fmt.Sprintf("\t%d/%s", *n.Round, n.Step)
		case rounds:
			col += "\t-"
		}
		fmt.Fprintf(w, "%d\tup\t%d\t%s\t%d\t%d+%d\t%s\t%s\n", n.Index, n.Height, n.Head.Hex()[:14], n.Peers, n.Pending, n.Queued, col, n.RPC)
	}
	return w.Flush()
}

func parseGroups(args []string) ([][]int, error) {
	var groups [][]int
	for _, a := range args {
		var g []int
		for _, f := range strings.Split(a, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return nil, fmt.Errorf("group %q: want node numbers like 0,1", a)
			}
			g = append(g, n)
		}
		groups = append(groups, g)
	}
	if len(groups) < 2 {
		return nil, errors.New("partition: give at least two groups, such as 0,1 2,3")
	}
	return groups, nil
}

func testnetPartition(args []string) error {
	c, fs, err := control("partition", "partition GROUP GROUP... [--dir DIR]  (e.g. 0,1 2,3,4)", args, nil)
	if err != nil {
		return err
	}
	groups, err := parseGroups(fs.Args())
	if err != nil {
		return err
	}
	if err := call(c, nil, "testnet_partition", groups); err != nil {
		return err
	}
	var names []string
	for _, g := range groups {
		names = append(names, fmt.Sprint(g))
	}
	fmt.Printf("partitioned the testnet into %s; the links between the groups are cut\n", strings.Join(names, " | "))
	return nil
}

func testnetHeal(args []string) error {
	c, _, err := control("heal", "heal [--dir DIR]", args, nil)
	if err != nil {
		return err
	}
	if err := call(c, nil, "testnet_heal"); err != nil {
		return err
	}
	fmt.Println("healed the testnet: every link is restored")
	return nil
}

func nodeArg(fs *pflag.FlagSet) (int, error) {
	if fs.NArg() != 1 {
		return 0, errors.New("give one node number")
	}
	return strconv.Atoi(fs.Arg(0))
}

// testnetNodeCommand is a subcommand that acts on one node, such as kill.
func testnetNodeCommand(name, method, done string) func([]string) error {
	return func(args []string) error {
		c, fs, err := control(name, name+" N [--dir DIR]", args, nil)
		if err != nil {
			return err
		}
		n, err := nodeArg(fs)
		if err != nil {
			return err
		}
		if err := call(c, nil, method, n); err != nil {
			return err
		}
		fmt.Printf("node %d %s\n", n, done)
		return nil
	}
}

func testnetSetLink(args []string) error {
	var apply func(*testnet.LinkParams) error
	c, fs, err := control("set-link", "set-link A B [--latency D] [--jitter D] [--loss P] [--bandwidth R] [--dir DIR]", args,
		func(fs *pflag.FlagSet) { apply = linkFlags(fs) })
	if err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("set-link: give two node numbers, from and to")
	}
	a, errA := strconv.Atoi(fs.Arg(0))
	b, errB := strconv.Atoi(fs.Arg(1))
	if errA != nil || errB != nil {
		return errors.New("set-link: node numbers must be integers")
	}
	var p testnet.LinkParams
	if err := apply(&p); err != nil {
		return err
	}
	if err := call(c, nil, "testnet_setLink", a, b, p); err != nil {
		return err
	}
	fmt.Printf("link %d -> %d: latency %s, jitter %s, loss %g, bandwidth %s\n", a, b, p.Latency, p.Jitter, p.Loss, bandwidthText(p.Bandwidth))
	return nil
}

// bandwidthText is a link's bandwidth for people: bytes/s, or unlimited.
func bandwidthText(bytesPerSecond int64) string {
	if bytesPerSecond == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%d bytes/s", bytesPerSecond)
}

func testnetSend(args []string) error {
	var count *int
	var rate *float64
	c, _, err := control("send", "send --count N --rate R [--dir DIR]", args, func(fs *pflag.FlagSet) {
		count = fs.Int("count", 100, "number of transfers")
		rate = fs.Float64("rate", 10, "transfers per second")
	})
	if err != nil {
		return err
	}
	if err := call(c, nil, "testnet_send", *count, *rate); err != nil {
		return err
	}
	fmt.Printf("sending %d transfers from %s at %g/s (about %.0fs); see them with chaind testnet report\n",
		*count, c.State.FundedAddr.Hex(), *rate, float64(*count) / *rate)
	return nil
}
