package bft

// roundVotes holds what one round of one height has received: the
// proposer's proposals (an equivocating proposer signs several, and each
// is a message of the paper's algorithm: the one a quorum voted for may
// not be the first one seen), and the prevotes and precommits, at most one
// of each kind per validator (the first; a second, different one is a
// double sign and is returned as evidence).
type roundVotes struct {
	proposals  []Message
	prevotes   voteSet
	precommits voteSet
	senders    map[int]bool // validators with any message in the round
	anyPower   int64        // their stake
}

// voteSet counts votes as the paper counts messages: a validator that
// signed votes for two values counts towards each (a commit that holds its
// vote for v proves what it proves, whichever of its votes arrived first),
// and once towards the total.
type voteSet struct {
	votes   map[int][]Message // each validator's votes, one per value
	byValue map[Value]int64
	total   int64
}

// maxVotesPerValidator bounds the different values one validator's votes
// of one round and type are kept for: enough for every proposal a round
// keeps and nil.
const maxVotesPerValidator = maxProposals + 1

// add records vote m of power p; when the validator had voted for another
// value, it returns that vote (a double sign).
func (s *voteSet) add(m Message, p int64) (conflict *Message) {
	if s.votes == nil {
		s.votes, s.byValue = map[int][]Message{}, map[Value]int64{}
	}
	old := s.votes[m.Validator]
	for _, o := range old {
		if o.Value == m.Value {
			return nil
		}
	}
	if len(old) >= maxVotesPerValidator {
		return &old[0]
	}
	s.votes[m.Validator] = append(old, m)
	s.byValue[m.Value] += p
	if len(old) == 0 {
		s.total += p
		return nil
	}
	return &old[0]
}

// of returns the votes for v, in validator order.
func (s *voteSet) of(v Value, n int) []Message {
	var out []Message
	for i := range n {
		for _, m := range s.votes[i] {
			if m.Value == v {
				out = append(out, m)
			}
		}
	}
	return out
}

func (r *roundVotes) sawFrom(i int, p int64) {
	if r.senders == nil {
		r.senders = map[int]bool{}
	}
	if !r.senders[i] {
		r.senders[i] = true
		r.anyPower += p
	}
}

// maxProposals bounds the proposals a round keeps. Beyond it, a proposal
// is kept only for a value that more than a third of the stake voted for
// in the round (so an honest validator saw it), in place of one no such
// share voted for; the first is always kept.
const maxProposals = 8

// proposal returns the round's proposal of v.
func (r *roundVotes) proposal(v Value) *Message {
	for i := range r.proposals {
		if r.proposals[i].Value == v {
			return &r.proposals[i]
		}
	}
	return nil
}

// addProposal keeps m unless the round holds it already or is full.
func (r *roundVotes) addProposal(m Message, vals *ValidatorSet) {
	if r.proposal(m.Value) != nil {
		return
	}
	if len(r.proposals) < maxProposals {
		r.proposals = append(r.proposals, m)
		return
	}
	backed := func(v Value) bool {
		return vals.HasOneThird(r.prevotes.byValue[v]) || vals.HasOneThird(r.precommits.byValue[v])
	}
	if !backed(m.Value) {
		return
	}
	for i := 1; i < len(r.proposals); i++ {
		if !backed(r.proposals[i].Value) {
			r.proposals[i] = m
			return
		}
	}
}
