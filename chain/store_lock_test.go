package chain

import (
	"strings"
	"testing"
)

// A second opener of a data directory (a node already running on it) is
// told so, not "resource temporarily unavailable".
func TestOpenStoreLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = OpenStore(dir)
	if err == nil {
		t.Fatal("a locked database opened twice")
	}
	if !strings.Contains(err.Error(), "a chaind node is running on this data directory") {
		t.Fatalf("unclear error for a locked database: %v", err)
	}
}
