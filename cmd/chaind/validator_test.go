package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaind/chaind/pos"
)

// TestValidatorProtectionImportExport: the EIP-3076 example file imports
// into a new data directory and exports again with its key's highs; a
// second export to an existing file, an export of a directory without a
// database and an import of a file for another chain are refused.
func TestValidatorProtectionImportExport(t *testing.T) {
	dir := t.TempDir()
	example := filepath.Join("..", "..", "pos", "testdata", "eip3076-example.json")
	if err := dispatch([]string{"validator", "protection", "import", "--datadir", dir, "--file", example}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.json")
	if err := dispatch([]string{"validator", "protection", "export", "--datadir", dir, "--out", out}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var x pos.Interchange
	if err := json.Unmarshal(data, &x); err != nil || len(x.Data) != 1 || x.Data[0].SignedBlocks[0].Slot != "81952" ||
		x.Data[0].SignedAttestations[0].SourceEpoch != "2290" || x.Data[0].SignedAttestations[0].TargetEpoch != "3008" {
		t.Fatalf("export: %s (%v)", data, err)
	}
	if err := dispatch([]string{"validator", "protection", "export", "--datadir", dir, "--out", out}); err == nil {
		t.Fatal("an export overwrote a file")
	}
	if err := dispatch([]string{"validator", "protection", "export", "--datadir", t.TempDir(), "--out", filepath.Join(t.TempDir(), "x.json")}); err == nil ||
		!strings.Contains(err.Error(), "no slashing-protection database") {
		t.Fatalf("export without a database: %v", err)
	}
	x.Metadata.GenesisValidatorsRoot = "0x" + strings.Repeat("11", 32)
	other := filepath.Join(t.TempDir(), "other.json")
	data, _ = json.Marshal(x)
	if err := os.WriteFile(other, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := dispatch([]string{"validator", "protection", "import", "--datadir", dir, "--file", other}); err == nil || !strings.Contains(err.Error(), "another chain") {
		t.Fatalf("import of another chain's file: %v", err)
	}
}
