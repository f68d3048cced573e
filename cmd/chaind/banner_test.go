package main

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/poll"
)

// TestDevBannerJoinLine: the dev banner's command for a second node suits
// the chain's engine (a PoS chain has no miners to join) and runs as
// printed on a machine where the first node holds the default ports.
func TestDevBannerJoinLine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dev nodes")
	}
	join := regexp.MustCompile(`(?m)^  (chaind node --genesis .*)$`)
	for _, consensus := range []string{"pow", "pos"} {
		dir := t.TempDir()
		p := startChaind(t, "node", "--dev", "--consensus", consensus, "--datadir", filepath.Join(dir, "dev"), "--rpc.addr", "127.0.0.1:0", "--p2p.addr", "127.0.0.1:0", "--log.level", "warn")
		poll.Until(t, 30*time.Second, "the join line", func() bool { return join.MatchString(p.stdout.String()) })
		line := join.FindStringSubmatch(p.stdout.String())[1]
		checkExplorerLine(t, p.stdout.String())
		if mines := strings.Contains(line, "--mine"); mines != (consensus == "pow") {
			t.Errorf("%s dev banner: %q suggests mining = %v", consensus, line, mines)
		}
		args := strings.Fields(strings.TrimSuffix(strings.ReplaceAll(line, "OTHER_DIR", filepath.Join(dir, "n2")), " [--mine --miner.coinbase ADDR]"))
		startChaind(t, append(args[1:], "--log.level", "warn")...) // fails the test unless it comes up
	}
}

// checkExplorerLine: the banner's Explorer line is a URL that serves the
// explorer's page.
func checkExplorerLine(t *testing.T, banner string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  Explorer:  (http://\S+)$`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("no Explorer line in the banner:\n%s", banner)
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatalf("GET %s: %v", m[1], err)
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "<html") {
		t.Fatalf("GET %s: status %d, err %v, page %.80q", m[1], resp.StatusCode, err, page)
	}
}
