package testnet

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/ethereum/go-ethereum/common"
)

// Records is everything the supervisor saw during a run; the report is
// computed from it alone, so it can be made again after the nodes are gone.
type Records struct {
	Nodes       int                       `json:"nodes"`
	Consensus   string                    `json:"consensus"`
	BlockTimeMs int64                     `json:"blockTimeMs"`
	Link        LinkParams                `json:"link"`
	StartMs     int64                     `json:"startMs"`
	EndMs       int64                     `json:"endMs"`
	Producers   map[common.Address]int    `json:"producers"` // coinbase -> node
	Blocks      map[common.Hash]*BlockRec `json:"blocks"`
	Events      []EventRec                `json:"events"`
	Txs         []TxRec                   `json:"txs"`
	Actions     []ActionRec               `json:"actions"`
	FinalHeads  map[int]common.Hash       `json:"finalHeads"`
	Finalized   map[int][]FinalizedRec    `json:"finalized,omitempty"`
	// FinalLinks is every link's shaping when the testnet went down, after
	// any set-link, partition or heal (Link is only the start's).
	FinalLinks []LinkRec  `json:"finalLinks,omitempty"`
	mu         sync.Mutex `json:"-"`
	path       string     `json:"-"`
}

// BlockRec is one block and when each node first saw it.
type BlockRec struct {
	Hash     common.Hash    `json:"hash"`
	Parent   common.Hash    `json:"parent"`
	Height   uint64         `json:"height"`
	Producer common.Address `json:"producer"`
	TimeMs   int64          `json:"timeMs,omitempty"` // header timestamp (PoS: its slot's start)
	SeenMs   map[int]int64  `json:"seenMs"`           // node -> Unix ms
}

// EventRec is one head change of one node.
type EventRec struct {
	Node    int           `json:"node"`
	TimeMs  int64         `json:"timeMs"`
	Hash    common.Hash   `json:"hash"`
	Height  uint64        `json:"height"`
	Removed []common.Hash `json:"removed,omitempty"`
	Added   []common.Hash `json:"added,omitempty"`
}

// TxRec is a transaction the supervisor sent, and where it ended up.
type TxRec struct {
	Hash   common.Hash  `json:"hash"`
	Node   int          `json:"node"`
	SentMs int64        `json:"sentMs"`
	Block  *common.Hash `json:"block,omitempty"` // canonical block at the end, if mined
	Height uint64       `json:"height,omitempty"`
}

// ActionRec is something done to the network (partition, kill, ...).
type ActionRec struct {
	TimeMs int64  `json:"timeMs"`
	What   string `json:"what"`
}

// LinkRec is the shaping of the link from one node to another.
type LinkRec struct {
	From   int        `json:"from"`
	To     int        `json:"to"`
	Params LinkParams `json:"params"`
}

// FinalizedRec is a finalized block a node reported.
type FinalizedRec struct {
	TimeMs int64       `json:"timeMs"`
	Hash   common.Hash `json:"hash"`
	Height uint64      `json:"height"`
}

func newRecords(path string) *Records {
	return &Records{path: path, Producers: map[common.Address]int{}, Blocks: map[common.Hash]*BlockRec{},
		FinalHeads: map[int]common.Hash{}, Finalized: map[int][]FinalizedRec{}}
}

func (r *Records) action(ms int64, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Actions = append(r.Actions, ActionRec{TimeMs: ms, What: fmt.Sprintf(format, args...)})
}

// save writes the records atomically.
func (r *Records) save() error {
	r.mu.Lock()
	data, err := json.Marshal(r)
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encode records: %w", err)
	}
	tmp := r.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write records: %w", err)
	}
	return os.Rename(tmp, r.path)
}

// LoadRecords reads DIR/records.json, or its compressed copy
// DIR/records.json.gz (what a published run keeps; see CompressRecords).
func LoadRecords(dir string) (*Records, error) {
	path := filepath.Join(dir, recordsFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		data, err = readGzip(path + ".gz")
	}
	if err != nil {
		return nil, fmt.Errorf("read records: %w (has a testnet run in %s?)", err, dir)
	}
	r := newRecords(path)
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return r, nil
}

const recordsFile = "records.json"

// CompressRecords writes DIR/records.json.gz, a compressed copy of the
// records that LoadRecords reads when records.json is gone.
func CompressRecords(dir string) error {
	path := filepath.Join(dir, recordsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("compress records: %w", err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(data); err != nil {
		return fmt.Errorf("compress records: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress records: %w", err)
	}
	return os.WriteFile(path+".gz", buf.Bytes(), 0o644)
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	data, err := io.ReadAll(io.LimitReader(zr, maxRecordsSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxRecordsSize {
		return nil, fmt.Errorf("%s: more than %d bytes uncompressed", path, maxRecordsSize)
	}
	return data, nil
}

// maxRecordsSize bounds what a compressed records file may expand to.
const maxRecordsSize = 1 << 30
