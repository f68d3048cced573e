package bft

import (
	"errors"
	"fmt"
	"sort"
)

// DuplicateVoteEvidence is proof that one validator signed two different
// votes of one type for one height and round: what no honest validator
// does, whatever the network did. Anyone with the validator set checks it
// (Verify); A is the vote with the lower value, so that one double sign
// makes one evidence whichever vote was seen first.
type DuplicateVoteEvidence struct {
	A, B Message
}

// NewDuplicateVoteEvidence orders the two votes.
func NewDuplicateVoteEvidence(a, b Message) DuplicateVoteEvidence {
	if string(b.Value[:]) < string(a.Value[:]) {
		a, b = b, a
	}
	return DuplicateVoteEvidence{A: a, B: b}
}

// Validator is the index of the validator that double signed.
func (e DuplicateVoteEvidence) Validator() int { return e.A.Validator }

// Verify checks that the evidence proves a double sign: two prevotes or two
// precommits of one validator for one height and round, with different
// values, each with a valid signature.
func (e DuplicateVoteEvidence) Verify(chainID string, vals *ValidatorSet, ver Verifier) error {
	a, b := e.A, e.B
	switch {
	case a.Type != TypePrevote && a.Type != TypePrecommit:
		return fmt.Errorf("bft: evidence of a %s, not a vote", a.Type)
	case a.Type != b.Type || a.Height != b.Height || a.Round != b.Round:
		return errors.New("bft: evidence votes of different type, height or round")
	case a.Validator != b.Validator:
		return errors.New("bft: evidence votes of different validators")
	case a.Value == b.Value:
		return errors.New("bft: evidence votes for one value")
	}
	for _, m := range []Message{a, b} {
		if err := Verify(chainID, vals, ver, m); err != nil {
			return fmt.Errorf("bft: evidence: %w", err)
		}
	}
	return nil
}

// voteKey is the (type, height, round, validator) a validator may sign once.
type voteKey struct {
	t Type
	h Height
	r Round
	v int
}

// FindEvidence returns every double sign among msgs (each validator, height,
// round and type once), ordered by validator.
func FindEvidence(msgs []Message) []DuplicateVoteEvidence {
	first := map[voteKey]Message{}
	found := map[voteKey]DuplicateVoteEvidence{}
	for _, m := range msgs {
		if m.Type != TypePrevote && m.Type != TypePrecommit {
			continue
		}
		k := voteKey{m.Type, m.Height, m.Round, m.Validator}
		f, ok := first[k]
		if !ok {
			first[k] = m
			continue
		}
		if _, done := found[k]; !done && f.Value != m.Value {
			found[k] = NewDuplicateVoteEvidence(f, m)
		}
	}
	out := make([]DuplicateVoteEvidence, 0, len(found))
	for _, e := range found {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].A, out[j].A
		if a.Validator != b.Validator {
			return a.Validator < b.Validator
		}
		if a.Height != b.Height {
			return a.Height < b.Height
		}
		if a.Round != b.Round {
			return a.Round < b.Round
		}
		return a.Type < b.Type
	})
	return out
}

// Culprits returns the distinct validators that evidence convicts and
// their total stake.
func Culprits(vals *ValidatorSet, evidence []DuplicateVoteEvidence) (who []int, power int64) {
	seen := map[int]bool{}
	for _, e := range evidence {
		if v := e.Validator(); !seen[v] {
			seen[v] = true
			who = append(who, v)
			power += vals.Power(v)
		}
	}
	sort.Ints(who)
	return who, power
}
