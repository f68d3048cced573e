package bft

import (
	"encoding/hex"
	"fmt"
	"time"
)

// Height is a position in the chain: the instance of consensus that decides
// one value. The first height is 1.
type Height uint64

// Round is an attempt at deciding a height, from 0. NoRound (-1) is the
// paper's -1: no locked or valid round, a proposal that carries no earlier
// polka.
type Round int32

// NoRound stands for "none" where a round is expected.
const NoRound Round = -1

// Step is where a validator is inside a round, in the paper's order.
type Step uint8

// The steps of a round. Their order is the order of signing: a signer never
// signs an earlier step of a round after a later one.
const (
	StepPropose Step = iota + 1
	StepPrevote
	StepPrecommit
)

func (s Step) String() string {
	switch s {
	case StepPropose:
		return "propose"
	case StepPrevote:
		return "prevote"
	case StepPrecommit:
		return "precommit"
	}
	return fmt.Sprintf("step(%d)", uint8(s))
}

// Value is what consensus decides, by its hash (a block hash). The zero
// Value is nil: a vote for no value.
type Value [32]byte

// Nil is the vote for no value.
var Nil Value

// IsNil says whether v is the nil vote.
func (v Value) IsNil() bool { return v == Nil }

func (v Value) String() string {
	if v.IsNil() {
		return "nil"
	}
	return hex.EncodeToString(v[:4])
}

// Timeouts are the waits of a round, each growing linearly with the round,
// as CometBFT's timeout_propose + round * timeout_propose_delta.
type Timeouts struct {
	Propose, ProposeDelta     time.Duration
	Prevote, PrevoteDelta     time.Duration
	Precommit, PrecommitDelta time.Duration
}

// For is the timeout of step in round r.
func (t Timeouts) For(step Step, r Round) time.Duration {
	n := time.Duration(max(r, 0))
	switch step {
	case StepPropose:
		return t.Propose + n*t.ProposeDelta
	case StepPrevote:
		return t.Prevote + n*t.PrevoteDelta
	default:
		return t.Precommit + n*t.PrecommitDelta
	}
}
