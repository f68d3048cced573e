package pos

import (
	"sort"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

// VoteBook remembers the finality votes a node has seen, in gossip or in
// blocks, and finds the pairs that prove a validator double or surround
// voted. Memory is bounded: per validator it keeps the votes of the last
// bookEpochs target epochs, at most bookVotes of them.
type VoteBook struct {
	e        *Engine
	mu       sync.Mutex
	byVoter  map[common.Address][]bookVote
	reported map[common.Address]bool
}

type bookVote struct {
	v  Vote
	tx *types.Transaction
}

const (
	bookEpochs = 64
	bookVotes  = 128
)

// NewVoteBook returns an empty book for e's chain.
func NewVoteBook(e *Engine) *VoteBook {
	return &VoteBook{e: e, byVoter: make(map[common.Address][]bookVote), reported: make(map[common.Address]bool)}
}

// Conflict reports whether a and b, two votes of one validator, are
// slashable together: different votes for one target epoch, or one
// surrounding the other.
func Conflict(a, b Vote) bool {
	double := a.Target.Epoch == b.Target.Epoch && a != b
	surround := (a.Source.Epoch < b.Source.Epoch && b.Target.Epoch < a.Target.Epoch) ||
		(b.Source.Epoch < a.Source.Epoch && a.Target.Epoch < b.Target.Epoch)
	return double || surround
}

// Add records tx if it is a finality vote and returns the evidence that
// slashes its sender if it conflicts with a vote seen before; nil otherwise,
// and nil again once the sender was reported.
func (b *VoteBook) Add(tx *types.Transaction) *Evidence {
	if tx.To() == nil || *tx.To() != FinalityAddress {
		return nil
	}
	v, err := b.e.DecodeVote(tx.Data())
	if err != nil {
		return nil
	}
	from, err := b.e.g.Sender(tx)
	if err != nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.reported[from] {
		return nil
	}
	seen := b.byVoter[from]
	for _, s := range seen {
		if s.v == v {
			return nil
		}
		if Conflict(s.v, v) {
			ra, errA := s.tx.MarshalBinary()
			rb, errB := tx.MarshalBinary()
			if errA != nil || errB != nil {
				return nil
			}
			b.reported[from] = true
			delete(b.byVoter, from)
			return &Evidence{Kind: DoubleVote, A: ra, B: rb}
		}
	}
	seen = append(seen, bookVote{v: v, tx: tx})
	sort.Slice(seen, func(i, j int) bool { return seen[i].v.Target.Epoch > seen[j].v.Target.Epoch })
	newest := seen[0].v.Target.Epoch
	for len(seen) > 0 && (len(seen) > bookVotes || seen[len(seen)-1].v.Target.Epoch+bookEpochs < newest) {
		seen = seen[:len(seen)-1]
	}
	b.byVoter[from] = seen
	return nil
}

// Encode is the calldata of a slashing transaction carrying ev.
func (ev *Evidence) Encode() []byte {
	data, _ := rlp.EncodeToBytes(ev) // cannot fail: two byte strings and a byte
	return data
}
