package doccheck

import "testing"

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
