package bft

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// WAL is the write-ahead log of a validator's machine: every event is
// appended before the machine sees it (see Append for which are synced), so a restarted validator
// replays the events of its current height and returns to the state it was
// in (CometBFT's consensus WAL). A record is a 4-byte length, the CRC-32C of
// the payload and the payload (JSON). A record torn by a crash ends the log:
// Open truncates it away.
type WAL struct {
	path string
	f    *os.File
}

// walRecord is one event of the log.
type walRecord struct {
	NewHeight *NewHeight `json:"newHeight,omitempty"`
	Receive   *Message   `json:"receive,omitempty"`
	Timeout   *Timeout   `json:"timeout,omitempty"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maxWALRecord bounds one record, checked before it is read.
const maxWALRecord = 1 << 20

func recordOf(e Event) (walRecord, error) {
	switch e := e.(type) {
	case NewHeight:
		return walRecord{NewHeight: &e}, nil
	case Receive:
		return walRecord{Receive: &e.Msg}, nil
	case Timeout:
		return walRecord{Timeout: &e}, nil
	}
	return walRecord{}, fmt.Errorf("bft: no WAL record for event %T", e)
}

func (r walRecord) event() (Event, error) {
	switch {
	case r.NewHeight != nil:
		return *r.NewHeight, nil
	case r.Receive != nil:
		return Receive{Msg: *r.Receive}, nil
	case r.Timeout != nil:
		return *r.Timeout, nil
	}
	return nil, errors.New("bft: empty WAL record")
}

// OpenWAL opens the log at path, creating it if needed, and returns its
// events in order. A torn or corrupt tail is cut off.
func OpenWAL(path string) (*WAL, []Event, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("bft: open WAL: %w", err)
	}
	events, good, err := readWAL(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("bft: cut the WAL's torn tail: %w", err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("bft: WAL: %w", err)
	}
	return &WAL{path: path, f: f}, events, nil
}

// readWAL returns the events of the log's whole records and the offset
// after the last of them.
func readWAL(f *os.File) ([]Event, int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, fmt.Errorf("bft: WAL: %w", err)
	}
	r := bufio.NewReader(f)
	var events []Event
	var good int64
	for {
		var head [8]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return events, good, nil
		}
		n := binary.BigEndian.Uint32(head[:4])
		if n > maxWALRecord {
			return events, good, nil
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil || crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(head[4:]) {
			return events, good, nil
		}
		var rec walRecord
		if err := json.Unmarshal(payload, &rec); err != nil {
			return events, good, nil
		}
		e, err := rec.event()
		if err != nil {
			return events, good, nil
		}
		events = append(events, e)
		good += int64(8 + n)
	}
}

func encodeRecord(e Event) ([]byte, error) {
	rec, err := recordOf(e)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("bft: WAL record: %w", err)
	}
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint32(b[:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(b[4:], crc32.Checksum(payload, castagnoli))
	return append(b, payload...), nil
}

// Append writes e, and with sync waits until it is on disk. As CometBFT's
// WAL, a replica syncs its own messages and writes the others' and its
// timeouts without waiting: a process crash loses nothing written, a power
// cut may lose the unsynced tail, which costs the replica only messages the
// gossip sends again (the last-signed record, always synced, keeps it from
// signing anything else).
func (w *WAL) Append(e Event, sync bool) error {
	b, err := encodeRecord(e)
	if err != nil {
		return err
	}
	if _, err := w.f.Write(b); err != nil {
		return fmt.Errorf("bft: WAL write: %w", err)
	}
	if !sync {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("bft: WAL sync: %w", err)
	}
	return nil
}

// StartHeight replaces the log by one that begins at height h: the messages
// of h received before it started (the machine holds them until then),
// then the NewHeight event. The replacement is written beside the log,
// synced and renamed over it, so a crash leaves the old log or the new one.
func (w *WAL) StartHeight(e NewHeight) error {
	old, _, err := readWAL(w.f)
	if err != nil {
		return err
	}
	var keep []Event
	for _, ev := range old {
		if r, ok := ev.(Receive); ok && r.Msg.Height == e.Height && len(keep) < maxFuture {
			keep = append(keep, ev)
		}
	}
	keep = append(keep, e)
	var buf []byte
	for _, ev := range keep {
		b, err := encodeRecord(ev)
		if err != nil {
			return err
		}
		buf = append(buf, b...)
	}
	tmp := w.path + ".new"
	if err := writeSynced(tmp, buf); err != nil {
		return fmt.Errorf("bft: WAL rotation: %w", err)
	}
	if err := os.Rename(tmp, w.path); err != nil {
		return fmt.Errorf("bft: WAL rotation: %w", err)
	}
	if err := syncDir(w.path); err != nil {
		return fmt.Errorf("bft: WAL rotation: %w", err)
	}
	f, err := os.OpenFile(w.path, os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("bft: reopen WAL: %w", err)
	}
	w.f.Close()
	w.f = f
	return nil
}

// Close closes the log.
func (w *WAL) Close() error { return w.f.Close() }
