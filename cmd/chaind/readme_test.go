package main

import (
	"context"
	"math/big"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/poll"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// walkthrough returns the command lines of README.md's "Try it" section:
// its first sh block.
func walkthrough(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Try it\n")
	if !ok {
		t.Fatal("README.md has no Try it section")
	}
	_, block, ok := strings.Cut(section, "```sh\n")
	if !ok {
		t.Fatal("the Try it section has no sh block")
	}
	block, _, _ = strings.Cut(block, "```")
	return strings.Split(strings.TrimSpace(block), "\n")
}

var (
	trailingComment = regexp.MustCompile(`\s+#\s.*$`)
	echoLine        = regexp.MustCompile(`^echo '([^']*)' > (\S+)$`)
	bannerBalance   = regexp.MustCompile(`Account: +(0x[0-9a-fA-F]{40}) \(([0-9,.]+) ETH at height (\d+)\)`)
)

// TestReadmeWalkthrough runs the README's Try it lines as a reader would,
// one process each, with /tmp moved to a temporary directory, HOME there
// too (for the default keystore), and the node on free ports. A line it
// does not know how to run fails the test, so the README cannot drift.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a dev node and waits for several blocks")
	}
	bin := chaindBinary(t)
	tmp := t.TempDir()
	env := append(os.Environ(), "HOME="+tmp)
	var node *proc
	var newAddr string
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("chaind %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	steps := 0
	for _, line := range walkthrough(t) {
		line = strings.ReplaceAll(trailingComment.ReplaceAllString(line, ""), "/tmp/", tmp+"/")
		line = strings.ReplaceAll(line, "0xYOURADDR", newAddr)
		f := strings.Fields(line)
		steps++
		switch {
		case line == "# in another shell:":
		case strings.HasPrefix(line, "go build -o chaind "):
			// chaindBinary built it.
		case echoLine.MatchString(line):
			m := echoLine.FindStringSubmatch(line)
			if err := os.WriteFile(m[2], []byte(m[1]+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(line, "# stop the node"):
			node.cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-node.done:
			case <-time.After(30 * time.Second):
				t.Fatal("the dev node did not stop on Ctrl-C")
			}
		case len(f) > 1 && f[0] == "./chaind" && f[1] == "node":
			node = startChaind(t, append(f[1:], "--rpc.addr", "127.0.0.1:0", "--p2p.addr", "127.0.0.1:0", "--log.level", "warn")...)
			checkBanner(t, node)
		case len(f) > 2 && f[0] == "./chaind" && f[1] == "wallet" && (f[2] == "send" || f[2] == "balance"):
			out := run(append(f[1:], "--rpc", node.url)...)
			if f[2] == "balance" && !strings.HasPrefix(out, "1500000000000000000 wei") {
				t.Fatalf("%s printed %q, want the 1.5 ether sent", line, out)
			}
		case len(f) > 2 && f[0] == "./chaind" && f[1] == "wallet" && f[2] == "new":
			newAddr = strings.Fields(run(f[1:]...))[0]
		case len(f) > 1 && f[0] == "./chaind" && f[1] == "verify":
			if out := run(f[1:]...); !strings.HasPrefix(out, "ok: ") {
				t.Fatalf("verify: %s", out)
			}
		default:
			t.Fatalf("the walkthrough has a line this test cannot run: %q", line)
		}
	}
	if steps < 10 || newAddr == "" {
		t.Fatalf("only %d lines run (new key %q)", steps, newAddr)
	}
	var bal hexutil.Big
	node.call(t, &bal, "eth_getBalance", newAddr, "latest")
	if bal.ToInt().Cmp(big.NewInt(9e18)) < 0 {
		t.Fatalf("the funded key holds %s wei after the walkthrough", bal.ToInt())
	}
}

// checkBanner waits for a dev node's banner and checks that the account's
// balance it prints is the balance at the height it names.
func checkBanner(t *testing.T, p *proc) {
	t.Helper()
	poll.Until(t, 30*time.Second, "the dev banner", func() bool { return strings.Contains(p.stdout.String(), "Genesis:") })
	m := bannerBalance.FindStringSubmatch(p.stdout.String())
	if m == nil {
		t.Fatalf("no account balance in the banner:\n%s", p.stdout)
	}
	var bal hexutil.Big
	p.call(t, &bal, "eth_getBalance", m[1], hexutil.EncodeUint64(mustUint(t, m[3])))
	if want := etherText(bal.ToInt()); want != m[2] {
		t.Fatalf("the banner shows %s ETH at height %s; the chain has %s", m[2], m[3], want)
	}
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || !n.IsUint64() {
		t.Fatalf("%q is not a height", s)
	}
	return n.Uint64()
}
