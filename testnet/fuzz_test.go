package testnet

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzScenario reads hostile scenario files: each loads or gives an error.
func FuzzScenario(f *testing.F) {
	files, _ := filepath.Glob("scenarios/*.json")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"nodes":2,"steps":[{"at":"1s","do":"partition","groups":[[0],[1]]},{"at":"2s","do":"stop"}]}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "scenario.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		LoadScenario(path)
	})
}

// FuzzRecords reads hostile records.json files (a run's measurements).
func FuzzRecords(f *testing.F) {
	f.Add([]byte(`{"nodes":[{"index":0,"heads":[{"height":1,"hash":"0x01","at":"2024-01-01T00:00:00Z"}]}]}`))
	f.Add([]byte(`{}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, recordsFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		LoadRecords(dir)
	})
}
