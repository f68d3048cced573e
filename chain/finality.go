package chain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// The node's finalized checkpoint. The engine's state says which block its
// votes finalized on the head's branch, but that answer moves back when the
// head moves to a branch that lacks the votes (a censoring proposer's). The
// chain therefore keeps its own finalized checkpoint: stored under its own
// key in the same batch as the head change that advances it, only ever
// replaced by a descendant, and always on the canonical chain. Fork choice
// never considers a branch that does not contain it (the block tree is
// filtered, as in Gasper): a block forking below it is refused with
// ErrRevertsFinalized, like any invalid block, so that the peer that sent it
// is scored down.
//
// A trusted checkpoint (weak subjectivity) is a block the operator knows to
// be on the right chain: a node only accepts chains that contain it, and
// once it is canonical it counts as finalized. Before the node has the
// checkpoint it cannot tell whether a block below it is its ancestor: it
// may follow a branch that forks below the checkpoint, but it takes no
// finality from any head that has not reached the checkpoint, so that such
// a branch never becomes final and is left for the checkpoint's chain as
// soon as that is heavier. A block at the checkpoint's height other than
// the checkpoint is refused, and so is, through it, every branch above it
// that does not contain it.

// ErrCheckpoint is a block on a chain that does not contain the trusted
// checkpoint.
const ErrCheckpoint = ErrorKind("branch does not contain the trusted checkpoint")

var keyFinalized = []byte("finalized") // height + hash of the node's finalized block

// Checkpoint names a block by height and hash. In a trusted checkpoint given
// by hash only, Number is 0 until the block is seen.
type Checkpoint struct {
	Number uint64
	Hash   common.Hash
}

// ParseCheckpoint reads "HASH" or "NUMBER:HASH".
func ParseCheckpoint(s string) (*Checkpoint, error) {
	num, hash, found := strings.Cut(s, ":")
	if !found {
		num, hash = "", num
	}
	var cp Checkpoint
	if num != "" {
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("checkpoint %q: the block number must be a positive integer", s)
		}
		cp.Number = n
	}
	h := strings.TrimPrefix(hash, "0x")
	if len(h) != 64 {
		return nil, fmt.Errorf("checkpoint %q: want a 32-byte hex block hash", s)
	}
	b, err := common.ParseHexOrString("0x" + h)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("checkpoint %q: want a 32-byte hex block hash", s)
	}
	cp.Hash = common.BytesToHash(b)
	return &cp, nil
}

func (b *storeBatch) setFinalized(cp Checkpoint) {
	b.b.Put(keyFinalized, binary.BigEndian.AppendUint64(append([]byte(nil), cp.Hash[:]...), cp.Number))
}

// Finalized reads the node's finalized checkpoint (ErrNotFound before the
// first one beyond genesis).
func (s *Store) Finalized() (Checkpoint, error) {
	data, err := s.get(keyFinalized)
	if err != nil {
		return Checkpoint{}, err
	}
	if len(data) != 40 {
		return Checkpoint{}, fmt.Errorf("finalized checkpoint: %d bytes", len(data))
	}
	return Checkpoint{Hash: common.BytesToHash(data[:32]), Number: binary.BigEndian.Uint64(data[32:])}, nil
}

// loadFinality reads the finalized checkpoint and checks that the stored
// chain agrees with it and with the trusted checkpoint.
func (c *Chain) loadFinality(trusted *Checkpoint) error {
	fin, err := c.store.Finalized()
	switch {
	case errors.Is(err, ErrNotFound):
		fin = Checkpoint{Number: 0, Hash: c.genesisHeader.Hash()}
	case err != nil:
		return fmt.Errorf("read finalized checkpoint: %w", err)
	}
	if canon, err := c.store.CanonicalHash(fin.Number); err != nil || canon != fin.Hash {
		return fmt.Errorf("database inconsistent: finalized block %d (%x) is not canonical", fin.Number, fin.Hash)
	}
	c.finalized = fin
	if trusted == nil {
		return nil
	}
	cp := *trusted
	if h, err := c.store.Header(cp.Hash); err == nil {
		if cp.Number != 0 && cp.Number != h.Height {
			return fmt.Errorf("checkpoint %d:%x: that block has height %d", cp.Number, cp.Hash, h.Height)
		}
		cp.Number = h.Height
	}
	head := c.head().block.Height()
	switch {
	case cp.Number == 0 && head > 0:
		return fmt.Errorf("checkpoint %x: the database follows a chain (head %d) that does not contain it; start from an empty data directory", cp.Hash, head)
	case cp.Number != 0 && head >= cp.Number:
		if canon, err := c.store.CanonicalHash(cp.Number); err != nil || canon != cp.Hash {
			return fmt.Errorf("checkpoint %d:%x: the database's chain has another block at that height; start from an empty data directory", cp.Number, cp.Hash)
		}
	case cp.Number != 0 && fin.Number > 0:
		return fmt.Errorf("checkpoint %d:%x: the database finalized block %d (%x) before reaching the checkpoint, and may be on another chain; start from an empty data directory", cp.Number, cp.Hash, fin.Number, fin.Hash)
	}
	c.trusted = &cp
	return nil
}

// checkFinality refuses b if its branch cannot contain the node's finalized
// block or the trusted checkpoint. It learns the trusted checkpoint's height
// when b is that block.
func (c *Chain) checkFinality(b *Block, parent *Header) error {
	hash := b.Hash()
	if t := c.trusted; t != nil {
		if t.Number == 0 && hash == t.Hash {
			t.Number = b.Height()
		}
		if t.Number != 0 && b.Height() == t.Number && hash != t.Hash {
			return NewRuleError(ErrCheckpoint, "block %d (%x) is not the checkpoint %x", b.Height(), hash, t.Hash)
		}
	}
	fin := c.finalized
	if b.Height() <= fin.Number {
		return NewRuleError(ErrRevertsFinalized, "block %d (%x) conflicts with finalized block %d (%x)", b.Height(), hash, fin.Number, fin.Hash)
	}
	keeps, err := c.keepsFinalized(parent, fin)
	if err != nil {
		return err
	}
	if !keeps {
		return NewRuleError(ErrRevertsFinalized, "block %d (%x) is on a branch without finalized block %d (%x)", b.Height(), hash, fin.Number, fin.Hash)
	}
	return nil
}

// keepsFinalized reports whether the branch ending at h contains fin (h is
// above it). It walks back from h until the branch meets the canonical
// chain, which contains fin, or reaches fin's height, so a check costs at
// most the blocks above finality: a hostile peer that feeds a long side
// branch does not make each of its blocks walk the whole branch (proof of
// work, where only genesis is final, walks nothing).
func (c *Chain) keepsFinalized(h *Header, fin Checkpoint) (bool, error) {
	if fin.Number == 0 {
		return true, nil // only genesis is final, and every stored block descends from it
	}
	for h.Height > fin.Number {
		if canon, err := c.store.CanonicalHash(h.Height); err == nil && canon == h.Hash() {
			return true, nil
		}
		parent, err := c.store.Header(h.ParentHash)
		if err != nil {
			return false, fmt.Errorf("read ancestor %x: %w", h.ParentHash, err)
		}
		h = parent
	}
	return h.Hash() == fin.Hash, nil
}

// mayAdopt reports whether the branch whose new blocks are added may become
// canonical: while the trusted checkpoint's height is unknown nothing may,
// and no branch with another block at that height may.
func (c *Chain) mayAdopt(added []*Block) error {
	t := c.trusted
	if t == nil {
		return nil
	}
	if t.Number == 0 {
		return errAwaitCheckpoint
	}
	for _, b := range added {
		if b.Height() == t.Number && b.Hash() != t.Hash {
			return NewRuleError(ErrCheckpoint, "branch has block %d (%x), not the checkpoint %x", b.Height(), b.Hash(), t.Hash)
		}
	}
	return nil
}

// reachedCheckpoint reports whether the branch ending at head contains the
// trusted checkpoint (or there is none): only then is the finality its
// engine state reports taken. A branch whose block at the checkpoint's
// height is the checkpoint is the only kind that gets past that height.
func (c *Chain) reachedCheckpoint(head *Block) bool {
	t := c.trusted
	return t == nil || (t.Number != 0 && head.Height() >= t.Number)
}

// errAwaitCheckpoint: a block is stored but not adopted until the trusted
// checkpoint is known.
var errAwaitCheckpoint = errors.New("waiting for the trusted checkpoint block")

// advanceFinalized returns the finalized checkpoint after the head moves to
// newHead (whose state is c.state) and records it in batch if it moved: the
// engine's finalized block when it is higher than the node's and newHead's
// branch contains the trusted checkpoint (if any), and the trusted
// checkpoint once the new chain reaches it. Both are ancestors of
// newHead, and newHead's branch contains the node's finalized block, so the
// result descends from it.
func (c *Chain) advanceFinalized(newHead *Block, batch *storeBatch) (Checkpoint, error) {
	next := c.finalized
	if f, ok := c.engine.(Finalizer); ok && c.reachedCheckpoint(newHead) {
		if hash := f.Finalized(newHead.Header, c.state); hash != (common.Hash{}) {
			h := newHead.Header // final at once (BFT), and not stored before batch
			if hash != newHead.Hash() {
				var err error
				if h, err = c.store.Header(hash); err != nil {
					return next, fmt.Errorf("read finalized block %x: %w", hash, err)
				}
			}
			if h.Height > next.Number {
				next = Checkpoint{Number: h.Height, Hash: hash}
			}
		}
	}
	if t := c.trusted; t != nil && t.Number > next.Number && newHead.Height() >= t.Number {
		next = *t
	}
	if next != c.finalized {
		batch.setFinalized(next)
	}
	return next, nil
}
