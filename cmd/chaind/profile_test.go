package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestSimNetworkWritesProfiles: sim network --cpuprofile and --memprofile
// write gzipped pprof profiles, and the heap profile is taken while the
// nodes are open: it holds their stores' allocations.
func TestSimNetworkWritesProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, heap := filepath.Join(dir, "cpu.pb.gz"), filepath.Join(dir, "heap.pb.gz")
	if out, err := runChaind(t, "sim", "network", "--nodes", "20", "--blocks", "10", "--latency", "bitcoin",
		"--json", "--cpuprofile", cpu, "--memprofile", heap); err != nil {
		t.Fatalf("sim network: %v\n%s", err, out)
	}
	read := func(path string) []byte {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		data, err := io.ReadAll(z)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return data
	}
	if len(read(cpu)) == 0 {
		t.Error("empty CPU profile")
	}
	if h := read(heap); !bytes.Contains(h, []byte("chain.OpenSimStore")) {
		t.Error("the heap profile holds no allocation of the nodes' stores")
	}
}
