package chain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"

	"github.com/ethereum/go-ethereum/common"
)

// headMarker is a small file beside the LevelDB files that records, outside
// LevelDB's log, the last head the node acknowledged. It is written and
// fsynced after every committed head change, so a database that lost its
// newest log records (a truncated or deleted .log, a disk that dropped
// writes) no longer contains the marked head and is refused at start instead
// of silently serving an older chain.
//
// The file holds two fixed-size slots written alternately, each with a
// sequence number and a checksum: a torn write spoils at most the slot being
// written, and the other still names a head the database holds.
//
// The import path only writes the slot; a goroutine of the marker fsyncs it
// right after (coalescing writes that come meanwhile), so an import does not
// wait for a second fsync besides LevelDB's own. A power cut can thus lose
// the marker's last few milliseconds of heads: the database is then ahead
// of the marker, which the start-up check accepts. Close fsyncs once more.
type headMarker struct {
	mu     sync.Mutex
	f      *os.File
	seq    uint64
	closed bool
	kick   chan struct{} // a written slot waits for its fsync
	done   chan struct{}
	onErr  func(error)
}

// MarkerFile is the name of the head marker inside the database directory.
const MarkerFile = "CHAIND-HEAD"

const markerSlot = 8 + 8 + 32 + 4 // seq, height, hash, crc32

// markedHead is what one marker slot says.
type markedHead struct {
	Seq    uint64
	Height uint64
	Hash   common.Hash
}

// openMarker opens (or creates) the marker file at path and returns the
// newest valid slot; ok is false when the file holds none (a new database, or
// one made before markers existed).
func openMarker(path string) (*headMarker, markedHead, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, markedHead{}, false, fmt.Errorf("open head marker: %w", err)
	}
	buf := make([]byte, 2*markerSlot)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, markedHead{}, false, fmt.Errorf("read head marker: %w", err)
	}
	var best markedHead
	found := false
	for i := 0; i+markerSlot <= n; i += markerSlot {
		if m, ok := decodeMarkerSlot(buf[i : i+markerSlot]); ok && (!found || m.Seq > best.Seq) {
			best, found = m, true
		}
	}
	m := &headMarker{f: f, seq: best.Seq, kick: make(chan struct{}, 1), done: make(chan struct{}), onErr: func(error) {}}
	return m, best, found, nil
}

// syncLoop fsyncs the file after writes until close; onErr hears failures.
func (m *headMarker) syncLoop() {
	defer close(m.done)
	for range m.kick {
		if err := m.f.Sync(); err != nil {
			m.onErr(fmt.Errorf("sync head marker: %w", err))
		}
	}
}

func decodeMarkerSlot(b []byte) (markedHead, bool) {
	if crc32.ChecksumIEEE(b[:markerSlot-4]) != binary.BigEndian.Uint32(b[markerSlot-4:]) {
		return markedHead{}, false
	}
	m := markedHead{Seq: binary.BigEndian.Uint64(b[0:8]), Height: binary.BigEndian.Uint64(b[8:16])}
	copy(m.Hash[:], b[16:48])
	return m, m.Seq != 0
}

func encodeMarkerSlot(m markedHead) []byte {
	b := make([]byte, 0, markerSlot)
	b = binary.BigEndian.AppendUint64(b, m.Seq)
	b = binary.BigEndian.AppendUint64(b, m.Height)
	b = append(b, m.Hash[:]...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// write records hash at height as the acknowledged head; the sync loop
// fsyncs it, or write itself when wait is set.
func (m *headMarker) write(height uint64, hash common.Hash, wait bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("head marker closed")
	}
	m.seq++
	b := encodeMarkerSlot(markedHead{Seq: m.seq, Height: height, Hash: hash})
	if _, err := m.f.WriteAt(b, int64(m.seq%2)*markerSlot); err != nil {
		return fmt.Errorf("write head marker: %w", err)
	}
	if wait {
		if err := m.f.Sync(); err != nil {
			return fmt.Errorf("sync head marker: %w", err)
		}
		return nil
	}
	select {
	case m.kick <- struct{}{}:
	default: // a sync is pending already and will cover this write
	}
	return nil
}

// close stops the sync loop, fsyncs the last write and closes the file.
func (m *headMarker) close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.kick)
	m.mu.Unlock()
	<-m.done
	return errors.Join(m.f.Sync(), m.f.Close())
}
