package chain

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/golang/snappy"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"
	"github.com/syndtr/goleveldb/leveldb/table"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// Start-up errors of a database that cannot be trusted as it is.
var (
	// ErrRolledBack: the database lacks the head the node last acknowledged.
	ErrRolledBack = errors.New("the database is older than the head this node last acknowledged")
	// ErrDamaged: one of the newest blocks or table files fails its checks.
	ErrDamaged = errors.New("the database is damaged")
)

// How much of the database is read at every start.
const (
	checkedBlocks = 64 // the newest canonical blocks, read and checked in full
	checkedTables = 4  // the newest LevelDB table files, every block's checksum
)

// openChecks runs the start-up checks on a freshly opened file database:
// the head marker against the stored head, then the newest blocks and table
// files. A database with a head but no marker (made before markers existed)
// gets one.
func (s *Store) openChecks() error {
	m, marked, ok, err := openMarker(filepath.Join(s.dir, MarkerFile))
	if err != nil {
		return err
	}
	m.onErr = func(err error) { s.log.Warn("Could not record the head outside the database", "err", err) }
	go m.syncLoop()
	s.marker = m
	if s.opts.trustOlder {
		return nil
	}
	head, err := s.Head()
	if errors.Is(err, ErrNotFound) {
		if ok {
			return fmt.Errorf("%w (height %d, %x), and it has no head at all: move the data directory aside and resync", ErrRolledBack, marked.Height, marked.Hash)
		}
		return nil // a new database
	} else if err != nil {
		return fmt.Errorf("%w: read head: %w; move the data directory aside and resync", ErrDamaged, err)
	}
	if ok {
		if err := s.checkMarked(marked, head); err != nil {
			return err
		}
	}
	if err := s.checkRecentBlocks(head); err != nil {
		return err
	}
	if err := s.checkNewestTables(); err != nil {
		return err
	}
	if !ok {
		s.markHead(head)
	}
	return nil
}

// checkMarked refuses a database whose head is behind the marked one: the
// marked block must be stored and the head's branch at least as heavy (fork
// choice only ever moves to a heavier branch, and the marker is written after
// the commit, so the database may be one head change ahead of it, not behind).
func (s *Store) checkMarked(marked markedHead, head common.Hash) error {
	dbHeight := "unknown"
	if h, err := s.Header(head); err == nil {
		dbHeight = fmt.Sprint(h.Height)
	}
	refuse := func(why string) error {
		return fmt.Errorf("%w: it was at height %d (%x), the database's head is at height %s (%x); %s. "+
			"Run 'chaind repair --datadir DIR' to check what is left and continue from it (the lost blocks are fetched again from peers), "+
			"or move the data directory aside and resync", ErrRolledBack, marked.Height, marked.Hash, dbHeight, head, why)
	}
	if _, err := s.Header(marked.Hash); errors.Is(err, ErrNotFound) {
		return refuse("its newest writes were lost (a truncated or deleted LevelDB .log file?)")
	} else if err != nil {
		return fmt.Errorf("%w: read the acknowledged head %x: %w", ErrDamaged, marked.Hash, err)
	}
	mw, err := s.Weight(marked.Hash)
	if err != nil {
		return fmt.Errorf("%w: weight of the acknowledged head %x: %w", ErrDamaged, marked.Hash, err)
	}
	hw, err := s.Weight(head)
	if err != nil {
		return fmt.Errorf("%w: weight of the head %x: %w", ErrDamaged, head, err)
	}
	if hw.Cmp(mw) < 0 {
		return refuse("the head's branch is lighter than the acknowledged one")
	}
	return nil
}

// checkRecentBlocks reads the newest canonical blocks in full: each header
// must hash to its canonical entry and link to its parent, each body must
// match its header's transaction and consensus roots, and each undo record must decode.
func (s *Store) checkRecentBlocks(head common.Hash) error {
	hdr, err := s.Header(head)
	if err != nil {
		return fmt.Errorf("%w: head block %x: %w", ErrDamaged, head, err)
	}
	damaged := func(height uint64, format string, args ...any) error {
		return fmt.Errorf("%w: block %d: %s; run 'chaind verify --datadir DIR' to see what is intact, or move the data directory aside and resync",
			ErrDamaged, height, fmt.Sprintf(format, args...))
	}
	want := head
	for n := 0; n < checkedBlocks; n++ {
		height := hdr.Height
		canon, err := s.CanonicalHash(height)
		if err != nil || canon != want {
			return damaged(height, "canonical entry %x (%v), want %x", canon, err, want)
		}
		if hdr.Hash() != want {
			return damaged(height, "header hashes to %x, stored as %x", hdr.Hash(), want)
		}
		txs, err := s.Txs(want)
		if err != nil {
			return damaged(height, "body: %v", err)
		}
		if root := TxRoot(txs); root != hdr.TxRoot {
			return damaged(height, "body has transaction root %x, header %x", root, hdr.TxRoot)
		}
		body, err := s.Consensus(want)
		if err != nil {
			return damaged(height, "consensus body: %v", err)
		}
		if root := ConsensusBodyRoot(body); root != hdr.ConsensusRoot {
			return damaged(height, "consensus body has root %x, header %x", root, hdr.ConsensusRoot)
		}
		if _, err := s.Weight(want); err != nil {
			return damaged(height, "weight: %v", err)
		}
		if _, err := s.undo(want); err != nil {
			return damaged(height, "undo record: %v", err)
		}
		if height == 0 {
			return nil
		}
		want = hdr.ParentHash
		if hdr, err = s.Header(want); err != nil {
			return damaged(height-1, "header %x: %v", want, err)
		}
	}
	return nil
}

// checkNewestTables reads every block of the newest live table files with
// its checksum verified: the files written last are where a crash or a bad
// disk leaves damage, and LevelDB itself would only notice on a later read.
//
// LevelDB compacts in the background from the moment it opens, so a listed
// table may be deleted before it is read: a table that is missing and no
// longer live was compacted away, not lost.
func (s *Store) checkNewestTables() error {
	live, err := s.liveTables()
	if err != nil {
		return err
	}
	slices.SortFunc(live, func(a, b int64) int { return cmp.Compare(b, a) })
	for _, num := range live[:min(len(live), checkedTables)] {
		fd := storage.FileDesc{Type: storage.TypeTable, Num: num}
		err := s.checkTable(fd)
		if errors.Is(err, os.ErrNotExist) {
			if now, lerr := s.liveTables(); lerr == nil && !slices.Contains(now, num) {
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("%w: table file %s: %w; run 'chaind verify --datadir DIR' to see what is intact, or move the data directory aside and resync", ErrDamaged, fd, err)
		}
	}
	return nil
}

// liveTables lists the file numbers of the tables in LevelDB's current version.
func (s *Store) liveTables() ([]int64, error) {
	prop, err := s.db.GetProperty("leveldb.sstables")
	if err != nil {
		return nil, fmt.Errorf("list table files: %w", err)
	}
	var live []int64
	for _, line := range strings.Split(prop, "\n") {
		var num, size int64
		if _, err := fmt.Sscanf(line, "%d:%d", &num, &size); err == nil {
			live = append(live, num)
		}
	}
	return live, nil
}

func (s *Store) checkTable(fd storage.FileDesc) error {
	r, err := s.stor.Open(fd)
	if err != nil {
		return err
	}
	defer r.Close()
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	o := &opt.Options{Strict: opt.StrictAll}
	tr, err := table.NewReader(r, size, fd, nil, nil, o)
	if err != nil {
		return err
	}
	defer tr.Release()
	it := tr.NewIterator(nil, &opt.ReadOptions{Strict: opt.StrictAll})
	defer it.Release()
	for it.Next() {
	}
	if err := it.Error(); err != nil {
		return err
	}
	return checkFilterBlock(r, size)
}

// tableFooterSize is the length of a LevelDB table's footer: the metaindex
// and index block handles, padded, and the magic number.
const tableFooterSize = 48

// checkFilterBlock verifies the checksum of a table's bloom filter block.
// goleveldb's reader drops a damaged filter silently (reads only get
// slower), so neither opening the table nor reading its data notices; it
// is damage on the disk all the same.
func checkFilterBlock(r io.ReaderAt, size int64) error {
	off, length, err := tableFilterBlock(r, size)
	if err != nil || length == 0 {
		return err
	}
	block := make([]byte, length+blockTrailerSize)
	if _, err := r.ReadAt(block, int64(off)); err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(block[length+1:]) != util.NewCRC(block[:length+1]).Value() {
		return fmt.Errorf("table: filter block at %d: checksum mismatch: %w", off, errCorruptTable)
	}
	return nil
}

// tableFilterBlock finds a table's filter block: its offset and length
// (without the trailer), or a length of 0 for a table written without a
// filter. The footer holds the metaindex block's handle; the metaindex
// holds one entry, the filter's handle, or none.
func tableFilterBlock(r io.ReaderAt, size int64) (off, length uint64, err error) {
	corrupt := func(what string) error { return fmt.Errorf("table: %s: %w", what, errCorruptTable) }
	if size < tableFooterSize {
		return 0, 0, corrupt("shorter than its footer")
	}
	footer := make([]byte, tableFooterSize)
	if _, err := r.ReadAt(footer, size-tableFooterSize); err != nil {
		return 0, 0, err
	}
	metaOff, metaLen, ok := blockHandle(footer)
	if !ok || metaOff+metaLen+blockTrailerSize > uint64(size) {
		return 0, 0, corrupt("metaindex handle")
	}
	meta := make([]byte, metaLen+blockTrailerSize)
	if _, err := r.ReadAt(meta, int64(metaOff)); err != nil {
		return 0, 0, err
	}
	switch meta[metaLen] { // the compression type
	case blockUncompressed:
		meta = meta[:metaLen]
	case blockSnappy:
		if meta, err = snappy.Decode(nil, meta[:metaLen]); err != nil {
			return 0, 0, corrupt("metaindex block: " + err.Error())
		}
	default:
		return 0, 0, corrupt("metaindex compression")
	}
	if len(meta) < 4 {
		return 0, 0, corrupt("metaindex block")
	}
	restarts := uint64(binary.LittleEndian.Uint32(meta[len(meta)-4:]))
	if restarts+1 > uint64(len(meta))/4 {
		return 0, 0, corrupt("metaindex restarts")
	}
	entries := meta[:uint64(len(meta))-4*(restarts+1)]
	if len(entries) == 0 {
		return 0, 0, nil
	}
	var lens [3]uint64 // shared, unshared and value lengths of the first entry
	p := 0
	for i := range lens {
		v, n := binary.Uvarint(entries[p:])
		if n <= 0 {
			return 0, 0, corrupt("metaindex entry")
		}
		lens[i], p = v, p+n
	}
	if lens[0] != 0 || lens[1]+lens[2] > uint64(len(entries)-p) {
		return 0, 0, corrupt("metaindex entry")
	}
	key, value := entries[p:p+int(lens[1])], entries[p+int(lens[1]):p+int(lens[1]+lens[2])]
	if !strings.HasPrefix(string(key), "filter.") {
		return 0, 0, nil
	}
	off, length, ok = blockHandle(value)
	if !ok || length == 0 || off+length+blockTrailerSize > uint64(size) {
		return 0, 0, corrupt("filter handle")
	}
	return off, length, nil
}

// What follows each table block: its compression type (none or snappy)
// and its masked CRC-32C.
const (
	blockTrailerSize  = 5
	blockUncompressed = 0
	blockSnappy       = 1
)

// errCorruptTable marks damage the table checks found beyond goleveldb's.
var errCorruptTable = errors.New("corrupted")

// blockHandle decodes a table block handle: offset and length, two varints.
func blockHandle(b []byte) (off, length uint64, ok bool) {
	off, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0, false
	}
	length, m := binary.Uvarint(b[n:])
	return off, length, m > 0
}

// markHead records hash as the acknowledged head. A failure only weakens the
// start-up check (the database is then ahead of the marker, which it
// accepts), so it is logged, not returned: the head is committed already.
func (s *Store) markHead(hash common.Hash) {
	if s.marker == nil {
		return
	}
	h, err := s.Header(hash)
	if err == nil {
		err = s.marker.write(h.Height, hash, false)
	}
	if err != nil {
		s.log.Warn("Could not record the head outside the database", "head", hash, "err", err)
	}
}

// AcceptHead records the database's current head as acknowledged: Repair
// calls it once the chain that is left has been checked.
func (s *Store) AcceptHead() error {
	head, err := s.Head()
	if err != nil {
		return fmt.Errorf("read head: %w", err)
	}
	h, err := s.Header(head)
	if err != nil {
		return fmt.Errorf("read head %x: %w", head, err)
	}
	if s.marker == nil {
		return nil
	}
	return s.marker.write(h.Height, head, true)
}

// OpenStoreForRepair opens the database in dir without the start-up checks,
// for a repair that replays it and then accepts its head (AcceptHead).
func OpenStoreForRepair(dir string) (*Store, error) {
	return OpenStoreWith(dir, StoreOptions{trustOlder: true})
}
