package bft

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/big"
)

// MaxTotalPower bounds the sum of the validators' stakes, as CometBFT's
// MaxTotalVotingPower, so that priorities (within a few times the total)
// never overflow an int64.
const MaxTotalPower = math.MaxInt64 / 8

// priorityWindow is CometBFT's PriorityWindowSizeFactor: priorities are
// rescaled whenever their spread exceeds this many times the total power.
const priorityWindow = 2

// Validator is one member of the set: its public key, an address derived
// from it (ties between equal priorities go to the lower address, as in
// CometBFT), its stake, and its proposer priority.
type Validator struct {
	PubKey   []byte
	Address  [20]byte
	Power    int64
	Priority int64
}

// NewValidator returns a validator of the given key and stake.
func NewValidator(pubKey []byte, power int64) Validator {
	sum := sha256.Sum256(pubKey)
	var a [20]byte
	copy(a[:], sum[:])
	return Validator{PubKey: bytes.Clone(pubKey), Address: a, Power: power}
}

// ValidatorSet is the stake-weighted set that runs consensus. Validators
// are named in messages by their index in it.
type ValidatorSet struct {
	vals     []Validator
	total    int64
	proposer int
}

// NewValidatorSet builds the set of the first height, as CometBFT's
// NewValidatorSet: every priority starts equal (so 0 after centring), then
// is incremented once.
func NewValidatorSet(vals []Validator) (*ValidatorSet, error) {
	if len(vals) == 0 {
		return nil, errors.New("bft: empty validator set")
	}
	s := &ValidatorSet{vals: make([]Validator, len(vals))}
	seen := map[[20]byte]bool{}
	for i, v := range vals {
		if v.Power <= 0 {
			return nil, fmt.Errorf("bft: validator %d has power %d", i, v.Power)
		}
		if seen[v.Address] {
			return nil, fmt.Errorf("bft: validator %d repeats address %x", i, v.Address)
		}
		seen[v.Address] = true
		s.total += v.Power
		if s.total > MaxTotalPower {
			return nil, fmt.Errorf("bft: total power above %d", int64(MaxTotalPower))
		}
		s.vals[i] = v
		s.vals[i].Priority = 0
	}
	s.IncrementProposerPriority(1)
	return s, nil
}

// Size is the number of validators.
func (s *ValidatorSet) Size() int { return len(s.vals) }

// TotalPower is the sum of the stakes.
func (s *ValidatorSet) TotalPower() int64 { return s.total }

// Get returns validator i.
func (s *ValidatorSet) Get(i int) (Validator, bool) {
	if i < 0 || i >= len(s.vals) {
		return Validator{}, false
	}
	return s.vals[i], true
}

// Power is the stake of validator i (0 when there is none).
func (s *ValidatorSet) Power(i int) int64 {
	v, _ := s.Get(i)
	return v.Power
}

// Copy returns an independent copy.
func (s *ValidatorSet) Copy() *ValidatorSet {
	c := &ValidatorSet{vals: make([]Validator, len(s.vals)), total: s.total, proposer: s.proposer}
	copy(c.vals, s.vals)
	return c
}

// HasQuorum says whether power is more than two thirds of the total (the
// paper's 2f+1).
func (s *ValidatorSet) HasQuorum(power int64) bool { return 3*power > 2*s.total }

// HasOneThird says whether power is more than a third of the total (the
// paper's f+1: at least one honest validator among them).
func (s *ValidatorSet) HasOneThird(power int64) bool { return 3*power > s.total }

// IncrementProposerPriority advances the rotation times steps, as
// CometBFT's ValidatorSet.IncrementProposerPriority: rescale the
// priorities so that their spread is at most twice the total power, centre
// them on their average, then times times add each validator's power to
// its priority and take the total from the one with the highest (ties to
// the lower address), which is the proposer. It returns the last proposer's
// index.
func (s *ValidatorSet) IncrementProposerPriority(times int) int {
	s.rescale(priorityWindow * s.total)
	s.centre()
	for range times {
		s.proposer = s.incrementOnce()
	}
	return s.proposer
}

// Proposer is the index of the validator the last increment chose.
func (s *ValidatorSet) Proposer() int { return s.proposer }

// mostPriority is the validator with the highest priority.
func (s *ValidatorSet) mostPriority() int {
	best := 0
	for i := 1; i < len(s.vals); i++ {
		if s.before(i, best) {
			best = i
		}
	}
	return best
}

func (s *ValidatorSet) before(i, j int) bool {
	a, b := s.vals[i], s.vals[j]
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	return bytes.Compare(a.Address[:], b.Address[:]) < 0
}

func (s *ValidatorSet) incrementOnce() int {
	for i := range s.vals {
		s.vals[i].Priority += s.vals[i].Power
	}
	p := s.mostPriority()
	s.vals[p].Priority -= s.total
	return p
}

// rescale divides every priority by ceil(spread/window) when the spread
// exceeds window (CometBFT's RescalePriorities; Go's division truncates
// towards zero as CometBFT's does).
func (s *ValidatorSet) rescale(window int64) {
	lo, hi := s.vals[0].Priority, s.vals[0].Priority
	for _, v := range s.vals[1:] {
		lo, hi = min(lo, v.Priority), max(hi, v.Priority)
	}
	diff := hi - lo
	if window <= 0 || diff <= window {
		return
	}
	ratio := (diff + window - 1) / window
	for i := range s.vals {
		s.vals[i].Priority /= ratio
	}
}

// centre subtracts the average priority, floored as big.Int's Euclidean
// division in CometBFT's computeAvgProposerPriority.
func (s *ValidatorSet) centre() {
	sum := new(big.Int)
	for _, v := range s.vals {
		sum.Add(sum, big.NewInt(v.Priority))
	}
	avg := sum.Div(sum, big.NewInt(int64(len(s.vals)))).Int64()
	for i := range s.vals {
		s.vals[i].Priority -= avg
	}
}

// Proposers computes who proposes in each round of one height: the set of
// the height incremented r times for round r, as CometBFT's
// enterNewRound. The first height's set is the genesis set; each later
// height's is the previous one's incremented once.
type Proposers struct {
	height *ValidatorSet
	cur    *ValidatorSet // height rescaled and centred, then incremented once per round
	rounds []int
}

// NewProposers returns the rotation of height h (h >= 1) for the genesis
// set.
func NewProposers(genesis *ValidatorSet, h Height) *Proposers {
	s := genesis.Copy()
	if h > 1 {
		s.IncrementProposerPriority(int(h - 1))
	}
	return &Proposers{height: s}
}

// Next returns the rotation of the following height.
func (p *Proposers) Next() *Proposers {
	s := p.height.Copy()
	s.IncrementProposerPriority(1)
	return &Proposers{height: s}
}

// Of returns the index of round r's proposer. IncrementProposerPriority(r)
// rescales and centres once, then increments r times, so the rounds are
// computed one increment each on one rescaled and centred copy.
func (p *Proposers) Of(r Round) int {
	for Round(len(p.rounds)) <= r {
		if len(p.rounds) == 0 {
			p.rounds = append(p.rounds, p.height.Proposer())
			continue
		}
		if p.cur == nil {
			p.cur = p.height.Copy()
			p.cur.rescale(priorityWindow * p.cur.total)
			p.cur.centre()
		}
		p.rounds = append(p.rounds, p.cur.incrementOnce())
	}
	return p.rounds[r]
}
