package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/chaind/chaind/"

// allowedImports is the package layering of docs/architecture.md: for each
// package, the chaind packages its non-test files may import. A package
// missing here, or an import not listed, fails the test: change the design
// document and this table together.
var allowedImports = map[string][]string{
	"clock":               {},
	"wallet":              {},
	"stats":               {},
	"figure":              {},
	"metrics":             {},
	"linkmodel":           {},
	"fault":               {"chain", "linkmodel"},
	"sim":                 {"stats", "p2p/addrman"},
	"chain":               {"clock"},
	"chain/chaintest":     {"chain", "clock"},
	"mempool":             {"chain", "clock"},
	"pow":                 {"chain", "clock"},
	"pos":                 {"chain", "clock"},
	"engines":             {"bftchain", "chain", "clock", "pos", "pow"},
	"engines/enginestest": {"chain", "engines"},
	"bft":                 {},
	"bftchain":            {"bft", "chain", "clock", "p2p"},
	"p2p":                 {"chain", "mempool", "clock", "p2p/addrman"},
	"p2p/addrman":         {},
	"p2p/memnet":          {"clock", "linkmodel"},
	"p2p/linkfault":       {"clock", "linkmodel"},
	"p2p/p2ptest":         {"chain", "p2p"},
	"rpc":                 {"chain", "mempool", "clock", "linkmodel"},
	"explorer":            {},
	"node":                {"chain", "clock", "engines", "explorer", "linkmodel", "mempool", "metrics", "p2p", "p2p/linkfault", "pos", "pow", "rpc", "wallet"},
	"testnet":             {"chain", "clock", "engines", "fault", "figure", "linkmodel", "pow", "rpc", "sim", "stats", "testnet/dashboard", "testnet/manifest", "wallet"},
	"testnet/dashboard":   {"clock"},
	"testnet/manifest":    {"chain", "engines"},
	"netsim":              {"chain", "clock", "engines", "fault", "linkmodel", "mempool", "pos", "pow", "testnet"},
	"loadgen":             {"chain", "engines", "pow", "rpc", "wallet"},
	"internal/poll":       {},
	"internal/browser":    {"internal/poll"},
	"internal/doccheck":   {},
	"internal/dockerd":    {},
	"cmd/chaind":          nil, // may import anything
}

// TestPackageLayering reads the imports of every package's non-test files
// and checks them against allowedImports, and that every package has a
// doc.go saying what it is for.
func TestPackageLayering(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "docs") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		first := !seen[pkg]
		seen[pkg] = true
		allowed, known := allowedImports[pkg]
		if !known {
			if !first {
				return nil
			}
			t.Errorf("package %s is not in the layering table: add it to docs/architecture.md and allowedImports", pkg)
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			dep, ours := strings.CutPrefix(p, modulePath)
			if !ours || allowed == nil {
				continue
			}
			if !slices.Contains(allowed, dep) {
				t.Errorf("%s imports %s: the layering allows %s only %v", filepath.ToSlash(rel)+"/"+filepath.Base(path), dep, pkg, allowed)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg := range seen {
		if pkg == "cmd/chaind" {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, pkg, "doc.go")); err != nil {
			t.Errorf("package %s has no doc.go", pkg)
		}
	}
	for pkg := range allowedImports {
		if !seen[pkg] {
			t.Errorf("allowedImports lists %s, which has no Go files: remove it", pkg)
		}
	}
}
