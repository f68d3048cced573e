package addrman

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// MaxAnchors bounds the anchors kept across a restart.
const MaxAnchors = 4

// anchorsFile is the on-disk form of the anchors.
type anchorsFile struct {
	Anchors []string `json:"anchors"`
}

// SaveAnchors writes the outbound peers of this run ([id@]IP:port) to path (at most
// MaxAnchors), so that the next run dials them first: an attacker who filled
// the book while we were down does not get our first connections.
func SaveAnchors(path string, addrs []string) error {
	enc, err := json.Marshal(anchorsFile{Anchors: addrs[:min(len(addrs), MaxAnchors)]})
	if err != nil {
		return fmt.Errorf("anchors: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, enc, 0o600); err != nil {
		return fmt.Errorf("anchors: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("anchors: %w", err)
	}
	return nil
}

// LoadAnchors reads the anchors at path and removes the file, as Bitcoin
// Core does, so that a crash loop does not keep dialling the same peers; a
// missing file is no anchors. Addresses that do not parse are dropped; an
// id is kept (the caller checks it when it dials).
func LoadAnchors(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("anchors: %w", err)
	}
	if err := os.Remove(path); err != nil {
		return nil, fmt.Errorf("anchors: %w", err)
	}
	var f anchorsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("anchors %s: %w", path, err)
	}
	var out []string
	for _, a := range f.Anchors[:min(len(f.Anchors), MaxAnchors)] {
		if id, key, err := parse(a); err == nil {
			out = append(out, (&entry{addr: key, id: id}).dialAddr())
		}
	}
	return out, nil
}
