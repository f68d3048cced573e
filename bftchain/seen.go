package bftchain

import (
	"sync"

	"github.com/chaind/chaind/bft"
	"github.com/ethereum/go-ethereum/crypto"
)

// seenMessages bounds the messages a node remembers having relayed: a few
// heights of a hundred validators' votes.
const seenMessages = 1 << 14

// seenSet remembers the signed messages a node has handled, so that each
// goes to the producer and on to the peers once: without it a message would
// circle a network of three nodes or more for ever. When full it forgets
// everything, which costs at most one more round of relaying.
type seenSet struct {
	mu   sync.Mutex
	max  int
	seen map[[32]byte]struct{}
}

func newSeenSet(max int) *seenSet { return &seenSet{max: max, seen: map[[32]byte]struct{}{}} }

// add reports whether m is new, and remembers it.
func (s *seenSet) add(m bft.Message) bool {
	key := crypto.Keccak256Hash(EncodeMessage(m))
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[key]; ok {
		return false
	}
	if len(s.seen) >= s.max {
		clear(s.seen)
	}
	s.seen[key] = struct{}{}
	return true
}
