package bft

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrDoubleSign is returned by a SafeSigner asked to sign a message that
// conflicts with what it signed before: another message for the same
// height, round and step, or any message for an earlier one.
var ErrDoubleSign = errors.New("bft: refusing to sign: conflicts with the last signed message")

// LastSigned is the record a validator keeps of the last message it signed,
// as CometBFT's privval keeps its FilePVLastSignState: the height, round and
// step, and the bytes and signature, so that the same message can be signed
// again (a restarted validator repeating itself) and no other.
type LastSigned struct {
	Height    Height `json:"height"`
	Round     Round  `json:"round"`
	Step      Step   `json:"step"`
	SignBytes []byte `json:"signBytes,omitempty"`
	Signature []byte `json:"signature,omitempty"`
}

// check decides about signing sb at (h, r, s): sign it (nil, nil), return
// the stored signature of the same bytes, or refuse.
func (l LastSigned) check(h Height, r Round, s Step, sb []byte) ([]byte, error) {
	switch {
	case h != l.Height:
		if h < l.Height {
			return nil, fmt.Errorf("%w: height %d after %d", ErrDoubleSign, h, l.Height)
		}
	case r != l.Round:
		if r < l.Round {
			return nil, fmt.Errorf("%w: round %d after %d at height %d", ErrDoubleSign, r, l.Round, h)
		}
	case s != l.Step:
		if s < l.Step {
			return nil, fmt.Errorf("%w: %s after %s at height %d round %d", ErrDoubleSign, s, l.Step, h, r)
		}
	case bytes.Equal(sb, l.SignBytes):
		return l.Signature, nil
	default:
		return nil, fmt.Errorf("%w: another %s at height %d round %d", ErrDoubleSign, s, h, r)
	}
	return nil, nil
}

// SafeSigner signs a validator's messages only after its last-signed record,
// kept in a file, allows it, and records each new signature in the file
// (written to a temporary file, synced, renamed over the old one, and the
// directory synced) before returning it: a crash at any point leaves either
// the old record or the new one, and a signature is never out before its
// record is on disk.
type SafeSigner struct {
	chainID string
	key     Signer
	path    string
	last    LastSigned
}

// OpenSafeSigner opens (or creates) the last-signed record at path.
func OpenSafeSigner(chainID string, key Signer, path string) (*SafeSigner, error) {
	s := &SafeSigner{chainID: chainID, key: key, path: path}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("bft: last-signed record: %w", err)
	}
	if err := json.Unmarshal(data, &s.last); err != nil {
		return nil, fmt.Errorf("bft: last-signed record %s: %w", path, err)
	}
	return s, nil
}

// Last returns the last-signed record.
func (s *SafeSigner) Last() LastSigned { return s.last }

// Sign fills m.Sig, or refuses with ErrDoubleSign.
func (s *SafeSigner) Sign(m Message) (Message, error) {
	sb := m.SignBytes(s.chainID)
	again, err := s.last.check(m.Height, m.Round, m.Type.Step(), sb)
	if err != nil {
		return m, err
	}
	if again != nil {
		m.Sig = bytes.Clone(again)
		return m, nil
	}
	sig, err := s.key.Sign(sb)
	if err != nil {
		return m, fmt.Errorf("bft: sign %s: %w", m, err)
	}
	next := LastSigned{Height: m.Height, Round: m.Round, Step: m.Type.Step(), SignBytes: sb, Signature: sig}
	if err := writeFileSync(s.path, next); err != nil {
		return m, fmt.Errorf("bft: record signature before sending it: %w", err)
	}
	s.last = next
	m.Sig = sig
	return m, nil
}

// writeFileSync replaces path with v's JSON atomically and durably.
func writeFileSync(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return WriteFileSynced(path, data)
}

// WriteFileSynced replaces path with data atomically and durably: a crash
// leaves the old file or the new one, never a part.
func WriteFileSynced(path string, data []byte) error {
	tmp := path + ".new"
	if err := writeSynced(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(path)
}

// writeSynced writes data to path and syncs it before closing.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir syncs the directory of path, so that a rename in it is durable.
func syncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
