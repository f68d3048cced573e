package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/loadgen"
)

// TestBenchTxOnPoSDevNode runs `chaind bench tx --dev` (a PoS node process by
// default) with a small load: every transfer of both phases is accepted and
// mined, and the JSON line reports them.
func TestBenchTxOnPoSDevNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node process and waits for its slots")
	}
	bin := chaindBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "bench", "tx", "--dev", "--senders", "4", "--txs", "200", "--batch", "10", "--workers", "4", "--json").Output()
	if err != nil {
		t.Fatalf("bench tx: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res loadgen.Result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if len(res.Phases) != 2 {
		t.Fatalf("%d phases, want 2", len(res.Phases))
	}
	for _, ph := range res.Phases {
		if ph.Txs != 200 || ph.Refused != 0 || ph.MinedTPS <= 0 {
			t.Fatalf("phase %+v: want 200 transfers, none refused, all mined", ph)
		}
	}
}
