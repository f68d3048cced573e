package chaintest

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/syndtr/goleveldb/leveldb/storage"
)

// FullDisk wraps the files LevelDB runs on (chain.StoreOptions.WrapStorage)
// and fails writes with ENOSPC while Full is set, as a full file system
// does. With SyncOnly, writes reach the files and only Sync fails (the bytes
// sit unsynced in the page cache).
type FullDisk struct {
	storage.Storage
	Full     atomic.Bool
	SyncOnly bool
}

// Wrap makes d run on st; pass it as chain.StoreOptions.WrapStorage.
func (d *FullDisk) Wrap(st storage.Storage) storage.Storage {
	d.Storage = st
	return d
}

// Create opens a new file whose writes fail while the disk is full.
func (d *FullDisk) Create(fd storage.FileDesc) (storage.Writer, error) {
	if d.Full.Load() && !d.SyncOnly {
		return nil, fmt.Errorf("create %s: %w", fd, syscall.ENOSPC)
	}
	w, err := d.Storage.Create(fd)
	if err != nil {
		return nil, err
	}
	return &fullDiskWriter{Writer: w, d: d}, nil
}

type fullDiskWriter struct {
	storage.Writer
	d *FullDisk
}

func (w *fullDiskWriter) Write(p []byte) (int, error) {
	if w.d.Full.Load() && !w.d.SyncOnly {
		return 0, fmt.Errorf("write: %w", syscall.ENOSPC)
	}
	return w.Writer.Write(p)
}

func (w *fullDiskWriter) Sync() error {
	if w.d.Full.Load() {
		return fmt.Errorf("sync: %w", syscall.ENOSPC)
	}
	return w.Writer.Sync()
}

// LogBuffer collects log output from several goroutines (a slog handler's
// writer in tests).
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
