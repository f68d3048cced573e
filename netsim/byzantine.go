package netsim

import (
	"sort"

	"github.com/chaind/chaind/pos"
	"github.com/ethereum/go-ethereum/common"
)

// ByzantineResult is one misbehaving validator and what became of it.
type ByzantineResult struct {
	Node      int            `json:"node"`
	Validator common.Address `json:"validator"`
	Behaviour string         `json:"behaviour"` // as given, such as equivocate+double-vote
	Slashed   bool           `json:"slashed"`   // in the state of the highest final head
}

// byzantineResults lists the Byzantine validators by node and address,
// each marked slashed or not on the chain of the highest head at the end.
func (s *sim) byzantineResults() []ByzantineResult {
	if len(s.cfg.Byzantine) == 0 || s.posEngine == nil {
		return nil
	}
	st := pos.HeadState{C: s.highest().chain}
	var out []ByzantineResult
	for _, n := range s.nodes {
		b := s.cfg.Byzantine[n.id]
		if b == 0 {
			continue
		}
		for v := range n.validators {
			out = append(out, ByzantineResult{Node: n.id, Validator: v, Behaviour: b.String(), Slashed: s.posEngine.Slashed(st, v)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Node != out[j].Node {
			return out[i].Node < out[j].Node
		}
		return out[i].Validator.Cmp(out[j].Validator) < 0
	})
	return out
}
