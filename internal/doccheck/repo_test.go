package doccheck

import (
	"os"
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
