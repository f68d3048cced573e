package bft

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWALCutsATornTail writes events, then half a record as a crash in the
// middle of a write leaves it: reopening returns the whole records, cuts
// the torn one, and appends after them.
func TestWALCutsATornTail(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "wal")
	w, events, err := OpenWAL(path)
	if err != nil || len(events) != 0 {
		t.Fatalf("new WAL: %v, %d events", err, len(events))
	}
	in := []Event{
		NewHeight{Height: 1, Value: value(1)},
		Receive{Msg: f.msg(TypePrevote, 0, value(1), 2)},
		Timeout{Height: 1, Round: 0, Step: StepPrevote},
	}
	for i, e := range in {
		if err := w.Append(e, i == 0); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	torn, err := encodeRecord(Receive{Msg: f.msg(TypePrecommit, 0, value(1), 2)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(whole, torn[:len(torn)/2]...), 0o600); err != nil {
		t.Fatal(err)
	}
	w, events, err = OpenWAL(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != len(in) {
		t.Fatalf("reopened: %d events, want %d", len(events), len(in))
	}
	if r, ok := events[1].(Receive); !ok || string(r.Msg.Sig) != string(in[1].(Receive).Msg.Sig) {
		t.Fatalf("event 1 is %#v", events[1])
	}
	if err := w.Append(in[2], true); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, events, err = OpenWAL(path); err != nil || len(events) != len(in)+1 {
		t.Fatalf("after an append past the cut: %v, %d events", err, len(events))
	}
}

// TestWALStartHeightKeepsTheNextHeightsMessages checks the rotation: a new
// height's log holds the messages of that height received before it
// started, then its NewHeight, and nothing of the height before.
func TestWALStartHeightKeepsTheNextHeightsMessages(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "wal")
	w, _, err := OpenWAL(path)
	if err != nil {
		t.Fatal(err)
	}
	early := f.msg(TypePrevote, 0, value(7), 1)
	early.Height = 2
	for _, e := range []Event{NewHeight{Height: 1}, Receive{Msg: f.msg(TypePrevote, 0, value(1), 2)}, Receive{Msg: early}} {
		if err := w.Append(e, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.StartHeight(NewHeight{Height: 2, Value: value(2)}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	_, events, err := OpenWAL(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("rotated log holds %d events, want 2", len(events))
	}
	if r, ok := events[0].(Receive); !ok || r.Msg.Height != 2 {
		t.Fatalf("first event %#v, want the early message of height 2", events[0])
	}
	if nh, ok := events[1].(NewHeight); !ok || nh.Height != 2 {
		t.Fatalf("second event %#v, want NewHeight 2", events[1])
	}
}

// FuzzOpenWAL opens arbitrary bytes as a log: it never panics, and what it
// keeps reopens to the same events.
func FuzzOpenWAL(f *testing.F) {
	rec, err := encodeRecord(NewHeight{Height: 3, Value: value(1)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rec)
	f.Add(append(rec, rec[:5]...))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "wal")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		w, events, err := OpenWAL(path)
		if err != nil {
			return
		}
		w.Close()
		_, again, err := OpenWAL(path)
		if err != nil || len(again) != len(events) {
			t.Fatalf("reopened: %v, %d events, want %d", err, len(again), len(events))
		}
	})
}
