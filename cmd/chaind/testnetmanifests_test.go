package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaind/chaind/testnet/manifest"
)

// TestTestnetManifestsCLI: the command reads the genesis a testnet
// directory holds and writes the manifests beside it; without a genesis it
// says which file it missed.
func TestTestnetManifestsCLI(t *testing.T) {
	dir := t.TempDir()
	if err := testnetManifests([]string{"--dir", dir}); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "genesis.json")) {
		t.Fatalf("without a genesis: %v", err)
	}
	g := `{"chain_id": 1337, "consensus": "pow", "timestamp": 1700000000000, "block_time": "1s", "alloc": {}, "pow": {"difficulty": "1000"}}`
	if err := os.WriteFile(filepath.Join(dir, "genesis.json"), []byte(g), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := testnetManifests([]string{"--dir", dir, "--nodes", "3", "--image", "chaind:dev"}); err != nil {
		t.Fatal(err)
	}
	k, err := os.ReadFile(filepath.Join(dir, manifest.KubernetesFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(k), "replicas: 3") || !strings.Contains(string(k), "image: chaind:dev") {
		t.Fatalf("manifests:\n%s", k)
	}
	if _, err := os.Stat(filepath.Join(dir, manifest.ComposeFile)); err != nil {
		t.Fatal(err)
	}
}

// TestTestnetImageRefusesADynamicBinary: a binary that needs a dynamic
// loader, which a scratch image lacks, is refused before docker is asked,
// with the static build to make instead.
func TestTestnetImageRefusesADynamicBinary(t *testing.T) {
	const dynamic = "/bin/true" // linked against libc on every Linux
	if _, err := os.Stat(dynamic); err != nil {
		t.Skip(err)
	}
	if err := testnetImage([]string{"--binary", dynamic, "--tag", "chaind:never"}); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0 go build ./cmd/chaind") {
		t.Fatalf("testnet image --binary %s: %v", dynamic, err)
	}
}
