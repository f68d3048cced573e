package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// engineSpecific are the files outside the engines' own packages (and
// engines/, their table) that may name an engine: each holds code of one
// engine that a new engine would add its own beside, not a list of engines.
// The table in engines/ is where an engine is added; a new file that
// switches on engine names fails TestEnginesNamedOnlyInTheTable.
var engineSpecific = map[string]string{
	"cmd/chaind/benchtx.go":        "--consensus default and help of bench tx --dev",
	"cmd/chaind/node.go":           "--consensus default and help of node --dev",
	"cmd/chaind/simcompare.go":     "the simulator's comparison variants",
	"cmd/chaind/simnetwork.go":     "the simulator's PoS options",
	"netsim/sim.go":                "the simulator runs PoS validator duties of its own (pos.go)",
	"testnet/analyse.go":           "PoS figures of a testnet run",
	"testnet/compare.go":           "the comparison variants",
	"testnet/compare_report.go":    "the comparison report's per-engine rows",
	"testnet/manifest/manifest.go": "manifests are for PoW testnets only",
	"testnet/plot_compare.go":      "the comparison plot's per-engine series",
	"testnet/recorder.go":          "PoS finality polls",
	"testnet/report.go":            "the report's PoW and PoS sections",
}

// TestEnginesNamedOnlyInTheTable reads every non-test file and fails on a
// reference to chain.ConsensusPoW or chain.ConsensusPoS, or a "pow" or "pos"
// string, outside chain, the engines' packages, the engines table and the
// files of engineSpecific: name resolution, genesis building, engine
// construction and the per-engine flags go through engines' table.
func TestEnginesNamedOnlyInTheTable(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	own := []string{"chain", "pow", "pos", "bft", "engines", "p2p/addrman"} // addrman's "pos" is a table name
	var found []string
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "docs" || slices.Contains(own, rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		names := false
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && id.Name == "chain" && (x.Sel.Name == "ConsensusPoW" || x.Sel.Name == "ConsensusPoS") {
					names = true
				}
			case *ast.BasicLit:
				if s, err := strconv.Unquote(x.Value); x.Kind == token.STRING && err == nil && (s == "pow" || s == "pos") {
					names = true
				}
			}
			return !names
		})
		if names {
			found = append(found, rel)
			if _, ok := engineSpecific[rel]; !ok {
				t.Errorf("%s names an engine: resolve --consensus, build genesis files and engines through engines' table (or, for one engine's own code, add the file to engineSpecific)", rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel := range engineSpecific {
		if !slices.Contains(found, rel) {
			t.Errorf("engineSpecific lists %s, which names no engine: remove it", rel)
		}
	}
}
