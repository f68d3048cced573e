package pos

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Slashing protection: an honest validator never signs two votes for one
// target epoch nor a vote surrounding one it signed, across restarts too. It
// writes the highest source and target epochs it voted for to a file, and
// makes the file durable, before the vote leaves the process.

// voteRecord is the content of the slashing-protection file.
type voteRecord struct {
	Source uint64 `json:"source"` // highest source epoch voted from
	Target uint64 `json:"target"` // highest target epoch voted for
}

// loadVoteRecord reads path; a missing file is a validator that never voted.
func loadVoteRecord(path string) (voteRecord, error) {
	var r voteRecord
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("slashing protection: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("slashing protection %s: %w (refusing to vote with an unreadable record)", path, err)
	}
	return r, nil
}

// save writes r to path atomically and durably.
func (r voteRecord) save(path string) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".votes-*")
	if err != nil {
		return fmt.Errorf("slashing protection: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("slashing protection: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("slashing protection: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("slashing protection: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("slashing protection: %w", err)
	}
	return nil
}
