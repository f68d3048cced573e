package bft

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Config is what a state machine needs: the chain id its signatures are
// bound to, the genesis validator set (fixed for every height in this
// version), its own index in it (-1 for a node that follows without
// voting), and the timeouts.
type Config struct {
	ChainID    string
	Validators *ValidatorSet
	Self       int
	Timeouts   Timeouts
}

// Event is an input of the state machine.
type Event interface{ isEvent() }

// NewHeight starts a height: Height is the next one to decide (1, or one
// above the last decision, or above a height whose decision the caller
// learned elsewhere: a node that synced the committed block, with its
// commit, from its peers; an undecided height is then abandoned, which
// signs nothing) and Value is what this validator proposes there
// when it is the proposer and holds no valid value (the paper's getValue()).
type NewHeight struct {
	Height Height
	Value  Value
}

// Receive delivers a message whose signature the caller has checked (Verify)
// — including the validator's own messages, once signed.
type Receive struct{ Msg Message }

// Timeout is a timer the machine asked for, now expired.
type Timeout struct {
	Height Height
	Round  Round
	Step   Step
}

func (NewHeight) isEvent() {}
func (Receive) isEvent()   {}
func (Timeout) isEvent()   {}

// Timer asks the caller to deliver Timeout after After.
type Timer struct {
	Timeout
	After time.Duration
}

// Decision is a decided value with its proof: the proposal and more than
// two thirds of the stake's precommits for it in one round.
type Decision struct {
	Height   Height
	Round    Round
	Value    Value
	Proposal Message
	Commit   []Message
}

// Output is what one event makes the machine do: messages to sign and
// broadcast (unsigned; Validator is Self), timers to set, a decision, and
// the double signs it saw.
type Output struct {
	Broadcast []Message
	Timers    []Timer
	Decision  *Decision
	Evidence  []DuplicateVoteEvidence
}

// Machine is the Tendermint state machine of one validator: Algorithm 1 of
// Buchman, Kwon and Milosevic, "The latest gossip on BFT consensus" (2018).
// It is pure: Handle takes an event and returns what to do, with no I/O,
// clock, goroutine or randomness, so a node, a simulator and the tests'
// schedule explorer drive the same code.
type Machine struct {
	cfg Config

	height    Height
	round     Round
	step      Step
	decided   bool
	proposers *Proposers
	value     Value // getValue() of this height

	lockedValue, validValue Value
	lockedRound, validRound Round

	rounds map[Round]*roundVotes
	// "for the first time" guards of lines 34, 36 and 47, per round.
	prevoteTimer, precommitTimer, polkaSeen map[Round]bool

	next []Message // messages of a later height, delivered when it starts
	out  Output
}

// maxRoundsAhead bounds how far ahead of its round a machine records
// messages, so that a Byzantine validator's message of a huge round costs
// nothing (CometBFT keeps votes for a round ahead, and a few more per
// peer); honest validators are never that far apart after GST.
const maxRoundsAhead = 1000

// maxFuture bounds how many messages of the next height a machine keeps.
const maxFuture = 4096

// NewMachine returns a machine that waits for its first NewHeight.
func NewMachine(cfg Config) (*Machine, error) {
	if cfg.Validators == nil {
		return nil, errors.New("bft: config without validators")
	}
	if cfg.Self < -1 || cfg.Self >= cfg.Validators.Size() {
		return nil, fmt.Errorf("bft: self %d outside a set of %d", cfg.Self, cfg.Validators.Size())
	}
	return &Machine{cfg: cfg, lockedRound: NoRound, validRound: NoRound}, nil
}

// Height, Round and Step say where the machine is.
func (m *Machine) Height() Height { return m.height }

// Round is the current round.
func (m *Machine) Round() Round { return m.round }

// Step is the current step.
func (m *Machine) Step() Step { return m.step }

// Decided says whether the current height is decided (and the machine
// waits for the next NewHeight).
func (m *Machine) Decided() bool { return m.decided }

// startsHeight says whether NewHeight e would start a height: any later
// one, decided or not.
func (m *Machine) startsHeight(e NewHeight) bool { return e.Height > m.height }

// Locked returns the locked value and round (NoRound when not locked).
func (m *Machine) Locked() (Value, Round) { return m.lockedValue, m.lockedRound }

// Valid returns the valid value and round.
func (m *Machine) Valid() (Value, Round) { return m.validValue, m.validRound }

// Handle applies one event and returns what the caller must do.
func (m *Machine) Handle(e Event) Output {
	m.out = Output{}
	switch e := e.(type) {
	case NewHeight:
		m.newHeight(e)
	case Receive:
		m.receive(e.Msg)
	case Timeout:
		m.timeout(e)
	}
	m.settle()
	return m.out
}

func (m *Machine) newHeight(e NewHeight) {
	if !m.startsHeight(e) {
		return
	}
	if m.proposers != nil && e.Height == m.height+1 {
		m.proposers = m.proposers.Next()
	} else {
		m.proposers = NewProposers(m.cfg.Validators, e.Height)
	}
	var next []Message
	for _, msg := range m.next {
		if msg.Height == e.Height {
			next = append(next, msg)
		}
	}
	m.height, m.value, m.decided = e.Height, e.Value, false
	m.lockedValue, m.validValue = Nil, Nil
	m.lockedRound, m.validRound = NoRound, NoRound
	m.rounds = map[Round]*roundVotes{}
	m.prevoteTimer, m.precommitTimer, m.polkaSeen = map[Round]bool{}, map[Round]bool{}, map[Round]bool{}
	m.next = nil
	m.startRound(0)
	for _, msg := range next {
		m.receive(msg)
	}
}

// startRound is the paper's StartRound (lines 11-21).
func (m *Machine) startRound(r Round) {
	m.round, m.step = r, StepPropose
	if m.cfg.Self >= 0 && m.proposers.Of(r) == m.cfg.Self {
		v := m.value
		if !m.validValue.IsNil() {
			v = m.validValue
		}
		m.send(TypeProposal, v, m.validRound)
		return
	}
	m.timer(StepPropose)
}

func (m *Machine) receive(msg Message) {
	switch {
	case msg.Height == m.height+1 || (m.height == 0 && msg.Height > 0):
		// The next height's messages wait for it; before its first height
		// a machine keeps messages of any (a WAL replay starts that way).
		if len(m.next) < maxFuture {
			m.next = append(m.next, msg)
		}
		return
	case msg.Height != m.height || m.height == 0:
		return
	}
	p := m.cfg.Validators.Power(msg.Validator)
	if p == 0 || msg.Round > m.round+maxRoundsAhead {
		return
	}
	rv := m.votes(msg.Round)
	var conflict *Message
	switch msg.Type {
	case TypeProposal:
		if msg.Validator != m.proposers.Of(msg.Round) {
			return
		}
		rv.addProposal(msg, m.cfg.Validators)
	case TypePrevote:
		conflict = rv.prevotes.add(msg, p)
	case TypePrecommit:
		conflict = rv.precommits.add(msg, p)
	}
	if conflict != nil {
		m.out.Evidence = append(m.out.Evidence, NewDuplicateVoteEvidence(*conflict, msg))
	}
	rv.sawFrom(msg.Validator, p)
}

// timeout is lines 57-65.
func (m *Machine) timeout(t Timeout) {
	if t.Height != m.height || t.Round != m.round || m.decided {
		return
	}
	switch {
	case t.Step == StepPropose && m.step == StepPropose:
		m.send(TypePrevote, Nil, NoRound)
		m.step = StepPrevote
	case t.Step == StepPrevote && m.step == StepPrevote:
		m.send(TypePrecommit, Nil, NoRound)
		m.step = StepPrecommit
	case t.Step == StepPrecommit:
		m.startRound(m.round + 1)
	}
}

// settle applies the "upon" rules of Algorithm 1 until none applies.
func (m *Machine) settle() {
	for m.height > 0 && !m.decided && m.applyOne() {
	}
}

func (m *Machine) applyOne() bool {
	vals := m.cfg.Validators
	// Line 49: a proposal and 2f+1 precommits for it, in any round.
	for _, r := range m.roundNumbers() {
		rv := m.rounds[r]
		for _, p := range rv.proposals {
			if vals.HasQuorum(rv.precommits.byValue[p.Value]) {
				m.decided = true
				m.out.Decision = &Decision{Height: m.height, Round: r, Value: p.Value, Proposal: p,
					Commit: rv.precommits.of(p.Value, vals.Size())}
				return false
			}
		}
	}
	// Line 55: f+1 of the stake sent messages of a higher round.
	rounds := m.roundNumbers()
	for i := len(rounds) - 1; i >= 0 && rounds[i] > m.round; i-- {
		if vals.HasOneThird(m.rounds[rounds[i]].anyPower) {
			m.startRound(rounds[i])
			return true
		}
	}
	rv := m.votes(m.round)
	if m.step == StepPropose {
		for _, p := range rv.proposals {
			if m.proposeStep(p) {
				return true
			}
		}
	}
	if m.step >= StepPrevote && !m.polkaSeen[m.round] {
		for _, p := range rv.proposals {
			if vals.HasQuorum(rv.prevotes.byValue[p.Value]) {
				// Line 36.
				m.polkaSeen[m.round] = true
				if m.step == StepPrevote {
					m.lockedValue, m.lockedRound = p.Value, m.round
					m.send(TypePrecommit, p.Value, NoRound)
					m.step = StepPrecommit
				}
				m.validValue, m.validRound = p.Value, m.round
				return true
			}
		}
	}
	switch {
	case m.step == StepPrevote && vals.HasQuorum(rv.prevotes.byValue[Nil]):
		// Line 44.
		m.send(TypePrecommit, Nil, NoRound)
		m.step = StepPrecommit
		return true
	case m.step == StepPrevote && !m.prevoteTimer[m.round] && vals.HasQuorum(rv.prevotes.total):
		// Line 34.
		m.prevoteTimer[m.round] = true
		m.timer(StepPrevote)
		return true
	case !m.precommitTimer[m.round] && vals.HasQuorum(rv.precommits.total):
		// Line 47.
		m.precommitTimer[m.round] = true
		m.timer(StepPrecommit)
		return true
	}
	return false
}

// proposeStep applies lines 22 and 28 to proposal p of the current round,
// in the propose step: prevote p's value if the lock allows it, else nil.
func (m *Machine) proposeStep(p Message) bool {
	switch {
	case p.ValidRound == NoRound:
		// Line 22.
		v := Nil
		if m.lockedRound == NoRound || m.lockedValue == p.Value {
			v = p.Value
		}
		m.send(TypePrevote, v, NoRound)
	case m.cfg.Validators.HasQuorum(m.votes(p.ValidRound).prevotes.byValue[p.Value]):
		// Line 28 (vr < round: ValidateBasic).
		v := Nil
		if m.lockedRound <= p.ValidRound || m.lockedValue == p.Value {
			v = p.Value
		}
		m.send(TypePrevote, v, NoRound)
	default:
		return false
	}
	m.step = StepPrevote
	return true
}

func (m *Machine) votes(r Round) *roundVotes {
	rv := m.rounds[r]
	if rv == nil {
		rv = &roundVotes{}
		m.rounds[r] = rv
	}
	return rv
}

func (m *Machine) roundNumbers() []Round {
	rs := make([]Round, 0, len(m.rounds))
	for r := range m.rounds {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i] < rs[j] })
	return rs
}

func (m *Machine) send(t Type, v Value, vr Round) {
	if m.cfg.Self < 0 {
		return
	}
	m.out.Broadcast = append(m.out.Broadcast, Message{Type: t, Height: m.height, Round: m.round,
		Value: v, ValidRound: vr, Validator: m.cfg.Self})
}

func (m *Machine) timer(s Step) {
	m.out.Timers = append(m.out.Timers, Timer{Timeout: Timeout{Height: m.height, Round: m.round, Step: s},
		After: m.cfg.Timeouts.For(s, m.round)})
}
