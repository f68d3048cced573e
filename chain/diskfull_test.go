package chain_test

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
)

// lockedBuffer is a log sink safe for the retry goroutine.
func openDiskChain(t *testing.T, dir string, o chain.StoreOptions) (*chain.Store, *chain.Chain) {
	t.Helper()
	s, err := chain.OpenStoreWith(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	c, err := chain.Open(chain.Config{Store: s, Genesis: ct.Genesis(0), Engine: ct.Engine{}, Clock: clock.NewSim(ct.GenesisTime.Add(time.Hour))})
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	return s, c
}

func mine(t *testing.T, c *chain.Chain) (*chain.Block, error) {
	t.Helper()
	b, err := c.BuildBlock(common.Address{2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b, c.InsertBlock(b)
}

// TestFullDiskStopsAndResumes: with the disk full, imports fail at once
// with chain.ErrStorageUnavailable and one error line, reads go on, and once space
// returns the store reopens itself after its backoff and imports continue;
// the database then opens cleanly at the head the chain reached.
func TestFullDiskStopsAndResumes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		byWrites bool // the write fails (ENOSPC) rather than the free-space check
		syncOnly bool
	}{{"write fails", true, false}, {"sync fails after the write", true, true}, {"free space below reserve", false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			disk := &ct.FullDisk{SyncOnly: tc.syncOnly}
			sim := clock.NewSim(time.Unix(0, 0))
			var logs ct.LogBuffer
			s, c := openDiskChain(t, dir, chain.StoreOptions{
				WrapStorage: disk.Wrap,
				FreeSpace: func() (uint64, error) {
					if disk.Full.Load() && !tc.byWrites {
						return 1 << 20, nil
					}
					return 1 << 40, nil
				},
				Clock:  sim,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			})
			var states []error
			var statesMu sync.Mutex
			s.OnHealth(func(err error) { statesMu.Lock(); states = append(states, err); statesMu.Unlock() })
			for range 5 {
				if _, err := mine(t, c); err != nil {
					t.Fatal(err)
				}
			}
			disk.Full.Store(true)
			b6, err := mine(t, c)
			if !errors.Is(err, chain.ErrStorageUnavailable) {
				t.Fatalf("import on a full disk: %v", err)
			}
			for range 3 {
				if _, err := mine(t, c); !errors.Is(err, chain.ErrStorageUnavailable) {
					t.Fatalf("import while failed: %v", err)
				}
			}
			if c.Head().Height() != 5 {
				t.Fatalf("head %d, want 5", c.Head().Height())
			}
			if b, err := c.BlockByHeight(3); err != nil || b.Height() != 3 {
				t.Fatalf("read while failed: %v", err)
			}
			if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
				t.Fatalf("%d error lines, want 1:\n%s", n, logs.String())
			}
			sim.Advance(time.Second) // still full: the next try is later
			if s.Writable() == nil {
				t.Fatal("writable while the disk is full")
			}
			disk.Full.Store(false)
			sim.Advance(time.Second) // the second try comes after twice the first delay
			if s.Writable() == nil {
				t.Fatal("retried before its backoff")
			}
			sim.Advance(time.Second)
			if err := s.Writable(); err != nil {
				t.Fatalf("not writable after space returned: %v", err)
			}
			if err := c.InsertBlock(b6); err != nil {
				t.Fatalf("import after recovery: %v", err)
			}
			if _, err := mine(t, c); err != nil {
				t.Fatal(err)
			}
			statesMu.Lock()
			if len(states) != 2 || states[0] == nil || states[1] != nil {
				t.Fatalf("health changes %v, want [failure, nil]", states)
			}
			statesMu.Unlock()
			root := c.StateRoot()
			s.Close()

			s2, c2 := openDiskChain(t, dir, chain.StoreOptions{})
			defer s2.Close()
			if c2.Head().Height() != 7 || c2.StateRoot() != root {
				t.Fatalf("reopened at %d (root %x), want 7 (%x)", c2.Head().Height(), c2.StateRoot(), root)
			}
		})
	}
}
