package chain

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chaind/chaind/clock"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// ErrStorageUnavailable is returned by writes while the store is failed: a
// write failed (a full disk) or free space is below StoreOptions.MinFree.
// Reads go on; the store retries with backoff and accepts writes again by
// itself once it can write.
var ErrStorageUnavailable = errors.New("storage unavailable")

// Retry pacing after a failed write.
const (
	firstRetry = time.Second
	maxRetry   = 30 * time.Second
)

// health is the store's write state.
type health struct {
	mu       sync.Mutex
	failed   error          // why writes stop; nil while writable
	reopen   bool           // a write failed: LevelDB's log writer is broken until reopened
	undo     *leveldb.Batch // restores what the failed batch may have written, or nil
	backoff  time.Duration
	timer    clock.Timer
	closed   bool
	watchers []func(error)
}

// OnHealth registers fn to be called with the cause when the store stops
// writing, and with nil when it writes again. fn must not block.
func (s *Store) OnHealth(fn func(error)) {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	s.health.watchers = append(s.health.watchers, fn)
}

// Writable reports nil while the store accepts writes, else why it does not.
func (s *Store) Writable() error {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return s.health.failed
}

// checkWritable refuses a write while the store is failed, and fails it
// when free space is below the minimum, before LevelDB runs out of it.
func (s *Store) checkWritable() error {
	if err := s.Writable(); err != nil {
		return fmt.Errorf("%w: %w", ErrStorageUnavailable, err)
	}
	if err := s.lowSpace(); err != nil {
		return s.writeFailed(err, false, nil)
	}
	return nil
}

func (s *Store) lowSpace() error {
	free, err := s.opts.FreeSpace()
	if err == nil && free < s.opts.MinFree {
		return fmt.Errorf("%d MiB free on the database's disk, below the %d MiB kept in reserve", free>>20, s.opts.MinFree>>20)
	}
	return nil
}

// writeFailed puts the store in the failed state (logging one line and
// telling the watchers the first time) and returns the error for the caller.
func (s *Store) writeFailed(cause error, wrote bool, undo *leveldb.Batch) error {
	h := &s.health
	h.mu.Lock()
	first := h.failed == nil && !h.closed
	if first {
		h.failed, h.backoff = cause, firstRetry
		h.timer = s.clock.AfterFunc(h.backoff, s.retry)
	}
	if wrote {
		h.reopen = true
		if h.undo == nil {
			h.undo = undo
		}
	}
	watchers := h.watchers
	h.mu.Unlock()
	if first {
		s.log.Error("Storage failed: importing and mining stop, reads go on; retrying until it can write again", "err", cause)
		for _, fn := range watchers {
			fn(cause)
		}
	}
	return fmt.Errorf("%w: %w", ErrStorageUnavailable, cause)
}

// retry tries to make the store writable again, and schedules the next try
// with a doubled delay if it cannot.
func (s *Store) retry() {
	h := &s.health
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	reopen, undo := h.reopen, h.undo
	h.mu.Unlock()
	err := s.recover(reopen, undo)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	if err != nil {
		h.backoff = min(2*h.backoff, maxRetry)
		h.timer = s.clock.AfterFunc(h.backoff, s.retry)
		h.mu.Unlock()
		s.log.Debug("Storage still failing", "err", err, "next_try", h.backoff)
		return
	}
	h.failed, h.reopen, h.undo = nil, false, nil
	watchers := h.watchers
	h.mu.Unlock()
	s.log.Info("Storage writable again; importing and mining resume")
	for _, fn := range watchers {
		fn(nil)
	}
}

// recover checks free space and, after a failed write, reopens the database
// (LevelDB's log writer does not recover from a write error) and writes back
// what the failed batch may have left half-applied.
func (s *Store) recover(reopen bool, undo *leveldb.Batch) error {
	if err := s.lowSpace(); err != nil {
		return err
	}
	if !reopen {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isClosed() {
		return errors.New("store closed")
	}
	_ = s.db.Close() // its log writer is broken; what it wrote before is on disk
	db, err := leveldb.Open(s.stor, dbOptions)
	if err != nil {
		return fmt.Errorf("reopen database: %w", err)
	}
	s.db = db
	if undo != nil {
		if err := db.Write(undo, &opt.WriteOptions{Sync: true}); err != nil {
			return fmt.Errorf("restore the keys of the failed write: %w", err)
		}
	}
	return nil
}

func (s *Store) isClosed() bool {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return s.health.closed
}

// inverse returns a batch that puts back the current values of every key b
// writes, or nil if they cannot be read. The caller holds s.mu.
func (s *Store) inverse(b *leveldb.Batch) *leveldb.Batch {
	var keys keyList
	if err := b.Replay(&keys); err != nil {
		return nil
	}
	inv := new(leveldb.Batch)
	for _, k := range keys {
		v, err := s.db.Get(k, nil)
		switch {
		case err == nil:
			inv.Put(k, v)
		case errors.Is(err, leveldb.ErrNotFound):
			inv.Delete(k)
		default:
			s.log.Warn("Cannot read back the keys of a failed write; restart the node once the disk has space", "err", err)
			return nil
		}
	}
	return inv
}

// keyList collects the keys a batch writes.
type keyList [][]byte

func (l *keyList) Put(k, _ []byte) { *l = append(*l, append([]byte(nil), k...)) }
func (l *keyList) Delete(k []byte) { *l = append(*l, append([]byte(nil), k...)) }

// close stops retries; Store.Close calls it before closing the database.
func (h *health) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.timer != nil {
		h.timer.Stop()
	}
}

func unknownFreeSpace() (uint64, error) { return 0, errors.New("free space unknown on this platform") }
