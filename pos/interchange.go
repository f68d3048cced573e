package pos

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// The EIP-3076 slashing-protection interchange format, version 5, as chaind
// reads and writes it: genesis_validators_root is the chain's genesis hash,
// pubkey a validator's secp256k1 public key (compressed, 33 bytes), and the
// signing roots those of domain.go. Export writes the minimal form (per key
// the highest block and the highest vote); import takes, per key, the
// highest slot and the highest source and target epochs in the file and
// merges them with the database's by maximum, as the EIP advises for
// minimal databases, so that the conditions on the file's minimums hold
// too. A key that is not a secp256k1 public key (an Ethereum client's
// 48-byte BLS key) is imported and exported like any other but can never
// sign here; Import names it in its report.

// InterchangeVersion is the interchange format version chaind reads and
// writes.
const InterchangeVersion = "5"

// Interchange is an EIP-3076 interchange file.
type Interchange struct {
	Metadata InterchangeMetadata `json:"metadata"`
	Data     []InterchangeKey    `json:"data"`
}

// InterchangeMetadata is the file's metadata.
type InterchangeMetadata struct {
	Version               string `json:"interchange_format_version"`
	GenesisValidatorsRoot string `json:"genesis_validators_root"`
}

// InterchangeKey is one key's signing history.
type InterchangeKey struct {
	Pubkey             string                   `json:"pubkey"`
	SignedBlocks       []InterchangeBlock       `json:"signed_blocks"`
	SignedAttestations []InterchangeAttestation `json:"signed_attestations"`
}

// InterchangeBlock is a signed block: decimal slot, optional signing root.
type InterchangeBlock struct {
	Slot        string `json:"slot"`
	SigningRoot string `json:"signing_root,omitempty"`
}

// InterchangeAttestation is a signed vote: decimal epochs, optional signing
// root.
type InterchangeAttestation struct {
	SourceEpoch string `json:"source_epoch"`
	TargetEpoch string `json:"target_epoch"`
	SigningRoot string `json:"signing_root,omitempty"`
}

// Export writes the database as an interchange file. The database must be
// bound to a chain (Bind, or an earlier import).
func (p *Protection) Export(w io.Writer) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok, err := p.genesis()
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("slashing protection: the database is empty (bound to no chain yet): nothing to export")
	}
	pubs, recs, err := p.records()
	if err != nil {
		return err
	}
	out := Interchange{Metadata: InterchangeMetadata{Version: InterchangeVersion, GenesisValidatorsRoot: g.Hex()}, Data: []InterchangeKey{}}
	for i, r := range recs {
		k := InterchangeKey{Pubkey: hexutil.Encode(pubs[i]), SignedBlocks: []InterchangeBlock{}, SignedAttestations: []InterchangeAttestation{}}
		if b := r.Block; b != nil {
			k.SignedBlocks = append(k.SignedBlocks, InterchangeBlock{Slot: strconv.FormatUint(b.Slot, 10), SigningRoot: rootString(b.Root)})
		}
		if v := r.Vote; v != nil {
			k.SignedAttestations = append(k.SignedAttestations, InterchangeAttestation{
				SourceEpoch: strconv.FormatUint(v.Source, 10), TargetEpoch: strconv.FormatUint(v.Target, 10), SigningRoot: rootString(v.Root)})
		}
		out.Data = append(out.Data, k)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("slashing protection: export: %w", err)
	}
	return nil
}

func rootString(h common.Hash) string {
	if h == (common.Hash{}) {
		return ""
	}
	return h.Hex()
}

// ImportReport says what an import did.
type ImportReport struct {
	Keys int // keys in the file
	// Foreign lists the keys that are not secp256k1 public keys, with why:
	// they are recorded but no chaind validator signs with them.
	Foreign []string
}

// maxInterchangeSize bounds an interchange file read by Import.
const maxInterchangeSize = 256 << 20

// Import merges an interchange file into the database, all of it or
// nothing. A file for another chain (genesis_validators_root) is refused; a
// database bound to no chain yet is bound to the file's.
func (p *Protection) Import(r io.Reader) (ImportReport, error) {
	var rep ImportReport
	data, err := io.ReadAll(io.LimitReader(r, maxInterchangeSize+1))
	if err != nil {
		return rep, fmt.Errorf("slashing protection: import: %w", err)
	}
	if len(data) > maxInterchangeSize {
		return rep, fmt.Errorf("slashing protection: import: the file exceeds %d bytes", maxInterchangeSize)
	}
	var in Interchange
	if err := json.Unmarshal(data, &in); err != nil {
		return rep, fmt.Errorf("slashing protection: import: not an interchange file: %w", err)
	}
	if in.Metadata.Version != InterchangeVersion {
		return rep, fmt.Errorf("slashing protection: import: interchange format version %q, want %q", in.Metadata.Version, InterchangeVersion)
	}
	g, err := parseRoot(in.Metadata.GenesisValidatorsRoot)
	if err != nil || g == (common.Hash{}) {
		return rep, fmt.Errorf("slashing protection: import: genesis_validators_root %q is not a 32-byte hex hash", in.Metadata.GenesisValidatorsRoot)
	}
	merged := make(map[string]keyRecord)
	var order []string
	for i, k := range in.Data {
		pub, err := hexutil.Decode(k.Pubkey)
		if err != nil || len(pub) == 0 || len(pub) > 128 {
			return rep, fmt.Errorf("slashing protection: import: data[%d]: pubkey %q is not a hex public key", i, k.Pubkey)
		}
		rec, err := parseKeyHistory(k)
		if err != nil {
			return rep, fmt.Errorf("slashing protection: import: data[%d] (%s): %w", i, k.Pubkey, err)
		}
		id := string(pub)
		if prev, ok := merged[id]; ok {
			rec = mergeRecords(prev, rec)
		} else {
			order = append(order, id)
			if _, err := crypto.DecompressPubkey(pub); err != nil {
				if _, err := crypto.UnmarshalPubkey(pub); err != nil {
					rep.Foreign = append(rep.Foreign, fmt.Sprintf("%s: a %d-byte key, not a secp256k1 public key (a BLS key from another client?): recorded, but no chaind validator signs with it", k.Pubkey, len(pub)))
				}
			}
		}
		merged[id] = rec
	}
	rep.Keys = len(order)
	p.mu.Lock()
	defer p.mu.Unlock()
	b := new(leveldb.Batch)
	if err := p.bind(g, b); err != nil {
		return rep, fmt.Errorf("%w (import refused: the file was made on another chain)", err)
	}
	for _, id := range order {
		have, err := p.record([]byte(id))
		if err != nil {
			return rep, err
		}
		putRecord(b, []byte(id), mergeRecords(have, merged[id]))
	}
	if err := p.db.Write(b, &opt.WriteOptions{Sync: true}); err != nil {
		return rep, fmt.Errorf("slashing protection: import: %w", err)
	}
	return rep, nil
}

func parseRoot(s string) (common.Hash, error) {
	b, err := hexutil.Decode(s)
	if err != nil || len(b) != common.HashLength {
		return common.Hash{}, fmt.Errorf("signing root %q is not a 32-byte hex hash", s)
	}
	return common.BytesToHash(b), nil
}

func parseEpoch(what, s string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a decimal number", what, s)
	}
	return n, nil
}

// parseKeyHistory reduces one key's history in a file to its highs.
func parseKeyHistory(k InterchangeKey) (keyRecord, error) {
	var r keyRecord
	for _, b := range k.SignedBlocks {
		slot, err := parseEpoch("slot", b.Slot)
		if err != nil {
			return r, err
		}
		var root common.Hash
		if b.SigningRoot != "" {
			if root, err = parseRoot(b.SigningRoot); err != nil {
				return r, err
			}
		}
		r = mergeRecords(r, keyRecord{Block: &SignedBlock{Slot: slot, Root: root}})
	}
	for _, a := range k.SignedAttestations {
		source, err := parseEpoch("source_epoch", a.SourceEpoch)
		if err != nil {
			return r, err
		}
		target, err := parseEpoch("target_epoch", a.TargetEpoch)
		if err != nil {
			return r, err
		}
		if source > target {
			return r, fmt.Errorf("an attestation from epoch %d to the earlier epoch %d", source, target)
		}
		var root common.Hash
		if a.SigningRoot != "" {
			if root, err = parseRoot(a.SigningRoot); err != nil {
				return r, err
			}
		}
		r = mergeRecords(r, keyRecord{Vote: &ProtectedVote{Source: source, Target: target, Root: root}})
	}
	return r, nil
}

// mergeRecords is the highs of a and b. A high's signing root survives only
// when it belongs to the one message at that high.
func mergeRecords(a, b keyRecord) keyRecord {
	out := keyRecord{Block: a.Block, Vote: a.Vote}
	if x, y := a.Block, b.Block; y != nil {
		switch {
		case x == nil || y.Slot > x.Slot:
			out.Block = &SignedBlock{Slot: y.Slot, Root: y.Root}
		case y.Slot == x.Slot && y.Root != x.Root:
			out.Block = &SignedBlock{Slot: x.Slot} // two roots for one slot: none may be signed again
		}
	}
	if x, y := a.Vote, b.Vote; y != nil {
		switch {
		case x == nil:
			out.Vote = &ProtectedVote{Source: y.Source, Target: y.Target, Root: y.Root}
		case *x == *y:
		default:
			m := &ProtectedVote{Source: max(x.Source, y.Source), Target: max(x.Target, y.Target)}
			if y.Source == m.Source && y.Target == m.Target && (x.Target < m.Target || x.Source < m.Source) {
				m.Root = y.Root // y alone is at both highs
			} else if x.Source == m.Source && x.Target == m.Target && (y.Target < m.Target || y.Source < m.Source) {
				m.Root = x.Root
			}
			out.Vote = m
		}
	}
	return out
}

// MigrateVoteFile imports the single-key vote record of chaind before the
// protection database (a JSON file {"source": s, "target": t} in the data
// directory) as the record of pub's votes, then removes it. A missing file
// is nothing to migrate; an unreadable one is refused.
func (p *Protection) MigrateVoteFile(path string, pub []byte) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("slashing protection: old vote record: %w", err)
	}
	var old struct {
		Source *uint64 `json:"source"`
		Target *uint64 `json:"target"`
	}
	if err := json.Unmarshal(data, &old); err != nil || old.Source == nil || old.Target == nil {
		return fmt.Errorf("slashing protection: old vote record %s is unreadable (%v); refusing to start: move it aside only if this key never voted with another record", path, err)
	}
	p.mu.Lock()
	have, err := p.record(pub)
	if err == nil && (*old.Source > 0 || *old.Target > 0) {
		err = p.write(func(b *leveldb.Batch) {
			putRecord(b, pub, mergeRecords(have, keyRecord{Vote: &ProtectedVote{Source: *old.Source, Target: *old.Target}}))
		})
	}
	p.mu.Unlock()
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("slashing protection: old vote record imported, but: %w", err)
	}
	return nil
}
