package doccheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The repository's own documents: README.md and docs/*.md.
func repoDocuments(t *testing.T) []string {
	t.Helper()
	docs, err := Documents("../..")
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) < 2 {
		t.Fatalf("found only %v", docs)
	}
	return docs
}

// TestRepositoryFigures checks every marked figure of README.md and
// docs/*.md against its committed record.
func TestRepositoryFigures(t *testing.T) {
	for _, err := range CheckFigures("../..", repoDocuments(t)) {
		t.Error(err)
	}
}

// TestRepositoryLinks checks every relative link of README.md and
// docs/*.md.
func TestRepositoryLinks(t *testing.T) {
	for _, err := range CheckLinks("../..", repoDocuments(t)) {
		t.Error(err)
	}
}

// TestReadmeFiguresMarked refuses a figure in README.md that looks measured
// and has no marker, so a new number cannot enter the front door without a
// record behind it.
func TestReadmeFiguresMarked(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range Unmarked("README.md", string(data)) {
		t.Error(err)
	}
}

// TestRepositoryStaleFigureFails copies the repository's documents, figure
// table and records, puts back the README's stale 2.8x for the unbatched
// intake ratio (its record says 2.21), and checks that exactly that figure
// fails.
func TestRepositoryStaleFigureFails(t *testing.T) {
	docs := repoDocuments(t)
	entries, err := LoadEntries("../..")
	if err != nil {
		t.Fatal(err)
	}
	files := append([]string{FiguresFile}, docs...)
	for _, e := range entries {
		files = append(files, e.Record)
	}
	root := t.TempDir()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("../..", filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if errs := CheckFigures(root, docs); len(errs) != 0 {
		t.Fatalf("the copy fails before any change: %v", errs)
	}
	readme := filepath.Join(root, "README.md")
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	const fresh, stale = "2.21x <!-- fig intake-ratio-unbatched -->", "2.8x <!-- fig intake-ratio-unbatched -->"
	if !strings.Contains(string(data), fresh) {
		t.Fatalf("README.md no longer quotes %q", fresh)
	}
	if err := os.WriteFile(readme, []byte(strings.Replace(string(data), fresh, stale, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	errs := CheckFigures(root, docs)
	want := "figure 2.8 (intake-ratio-unbatched) disagrees with its record docs/perf/geth-intake-16-quiet.txt, which gives 2.21"
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), want) {
		t.Fatalf("got %v, want one error containing %q", errs, want)
	}
}
