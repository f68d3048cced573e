package chain

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// buildOnDisk makes a chain in dir whose first blocks are in a LevelDB table
// file and whose newest ones are only in the newest .log: it imports first
// blocks, reopens (LevelDB flushes its log into a table on open) and imports
// more. It returns the head height.
func buildOnDisk(t *testing.T, dir string, first, more int) uint64 {
	t.Helper()
	for _, n := range []int{first, more} {
		s, c, err := openTestChain(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			b, err := c.BuildBlock(common.Address{2}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.InsertBlock(b); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
	}
	return uint64(first + more)
}

func newestFile(t *testing.T, dir, pattern string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(files) == 0 {
		t.Fatalf("no %s in %s", pattern, dir)
	}
	slices.Sort(files) // LevelDB numbers files with zero padding
	return files[len(files)-1]
}

// TestOpenRefusesLostLog reproduces a silent rollback: after a clean stop,
// the newest LevelDB .log is deleted or cut short. Without the head marker
// the chain opened at an older head with no warning.
func TestOpenRefusesLostLog(t *testing.T) {
	for _, tc := range []struct {
		name string
		harm func(path string) error
	}{
		{"deleted", os.Remove},
		{"truncated to half", func(path string) error {
			fi, err := os.Stat(path)
			if err != nil {
				return err
			}
			return os.Truncate(path, fi.Size()/2)
		}},
		{"truncated to the last record", func(path string) error {
			fi, err := os.Stat(path)
			if err != nil {
				return err
			}
			return os.Truncate(path, fi.Size()-100)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			buildOnDisk(t, dir, 10, 20)
			if err := tc.harm(newestFile(t, dir, "*.log")); err != nil {
				t.Fatal(err)
			}
			_, _, err := openTestChain(t, dir)
			if !errors.Is(err, ErrRolledBack) {
				t.Fatalf("opened a database that lost its newest blocks: %v", err)
			}
			t.Log(err)

			// The way out: accept what is left after checking it.
			s, err := OpenStoreForRepair(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.AcceptHead(); err != nil {
				t.Fatal(err)
			}
			s.Close()
			s, c, err := openTestChain(t, dir)
			if err != nil {
				t.Fatalf("after repair: %v", err)
			}
			defer s.Close()
			if h := c.Head().Height(); h < 10 || h >= 30 {
				t.Fatalf("head %d after repair, want in [10, 30)", h)
			}
		})
	}
}

// TestOpenAcceptsCleanRestarts: the marker never refuses a database that
// lost nothing, including one opened many times.
func TestOpenAcceptsCleanRestarts(t *testing.T) {
	dir := t.TempDir()
	buildOnDisk(t, dir, 3, 3)
	want := buildOnDisk(t, dir, 3, 3) + 6
	s, c, err := openTestChain(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := c.Head().Height(); got != want {
		t.Fatalf("head %d, want %d", got, want)
	}
}

// TestOpenDetectsDamagedTable writes random bytes into the newest .ldb file
// (a seeded position per run); the start-up must notice instead of failing
// on some later read.
func TestOpenDetectsDamagedTable(t *testing.T) {
	for seed := range uint64(8) {
		dir := t.TempDir()
		buildOnDisk(t, dir, 20, 20)
		s, _, err := openTestChain(t, dir) // flushes the newest blocks into a table
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		path := newestFile(t, dir, "*.ldb")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 14))
		off := rng.IntN(len(data) - 8)
		for i := range 8 {
			data[off+i] ^= byte(1 + rng.IntN(255))
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err = openTestChain(t, dir)
		if err == nil {
			t.Fatalf("seed %d: opened a database with 8 damaged bytes at offset %d of %d in %s", seed, off, len(data), filepath.Base(path))
		}
		if !errors.Is(err, ErrDamaged) {
			t.Fatalf("seed %d: unclear error %v", seed, err)
		}
	}
}

// TestOpenDetectsDamagedHeadBlock: a head block whose body no longer
// matches its header is caught at start.
func TestOpenDetectsDamagedHeadBlock(t *testing.T) {
	dir := t.TempDir()
	buildOnDisk(t, dir, 2, 2)
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := s.Head()
	if err := s.db.Delete(key(prefixBody, head[:]), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := OpenStore(dir); !errors.Is(err, ErrDamaged) {
		t.Fatalf("opened a database whose head has no body: %v", err)
	}
}

// TestOpenDetectsDamagedFilterBlock: a byte changed in the bloom filter
// block of the newest table is caught at start. goleveldb's reader drops
// a damaged filter silently, so reading every data block did not notice;
// TestOpenDetectsDamagedTable's random damage fell there in one table
// layout of two, depending on whether a compaction had run before the
// store closed.
func TestOpenDetectsDamagedFilterBlock(t *testing.T) {
	dir := t.TempDir()
	buildOnDisk(t, dir, 20, 20)
	s, _, err := openTestChain(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	path := newestFile(t, dir, "*.ldb")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off, length, err := tableFilterBlock(bytes.NewReader(data), int64(len(data)))
	if err != nil || length == 0 {
		t.Fatalf("no filter block in %s: %v", filepath.Base(path), err)
	}
	data[off+length/2] ^= 0x40
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := openTestChain(t, dir); !errors.Is(err, ErrDamaged) {
		t.Fatalf("a damaged filter block at %d of %s: %v", off, filepath.Base(path), err)
	}
}
