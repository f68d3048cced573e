package bft

import (
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// fixture is a set of four validators of equal stake and their keys.
type fixture struct {
	t    *testing.T
	vals *ValidatorSet
	keys []ed25519.PrivateKey
}

func newFixture(t *testing.T, stakes ...int64) fixture {
	if len(stakes) == 0 {
		stakes = []int64{1, 1, 1, 1}
	}
	f := fixture{t: t}
	var vs []Validator
	for i, p := range stakes {
		seed := make([]byte, ed25519.SeedSize)
		seed[0] = byte(i + 1)
		k := ed25519.NewKeyFromSeed(seed)
		f.keys = append(f.keys, k)
		vs = append(vs, NewValidator(k.Public().(ed25519.PublicKey), p))
	}
	vals, err := NewValidatorSet(vs)
	if err != nil {
		t.Fatal(err)
	}
	f.vals = vals
	return f
}

func (f fixture) machine(self int) *Machine {
	m, err := NewMachine(Config{ChainID: testChain, Validators: f.vals, Self: self, Timeouts: explorerTimeouts})
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f fixture) msg(t Type, r Round, v Value, from int) Message {
	m := Message{Type: t, Height: 1, Round: r, Value: v, ValidRound: NoRound, Validator: from}
	m.Sig = ed25519.Sign(f.keys[from], m.SignBytes(testChain))
	return m
}

// proposal is round r's proposal of v with valid round vr, from its proposer.
func (f fixture) proposal(r Round, v Value, vr Round) Message {
	m := Message{Type: TypeProposal, Height: 1, Round: r, Value: v, ValidRound: vr, Validator: NewProposers(f.vals, 1).Of(r)}
	m.Sig = ed25519.Sign(f.keys[m.Validator], m.SignBytes(testChain))
	return m
}

// notProposer is a validator that proposes in none of rounds 0..n.
func (f fixture) notProposer(n Round) int {
	p := NewProposers(f.vals, 1)
	for i := range f.vals.Size() {
		free := true
		for r := Round(0); r <= n; r++ {
			free = free && p.Of(r) != i
		}
		if free {
			return i
		}
	}
	f.t.Fatal("every validator proposes")
	return -1
}

// votes delivers type t votes of round r for v from validators from.
func (f fixture) votes(m *Machine, t Type, r Round, v Value, from ...int) Output {
	var out Output
	for _, i := range from {
		merge(&out, m.Handle(Receive{Msg: f.msg(t, r, v, i)}))
	}
	return out
}

func others(self, n int) []int {
	var o []int
	for i := range n {
		if i != self {
			o = append(o, i)
		}
	}
	return o
}

func value(b byte) Value { return Value{b} }

func TestHeightDecidesInRoundZero(t *testing.T) {
	f := newFixture(t)
	self := f.notProposer(0)
	m := f.machine(self)
	out := m.Handle(NewHeight{Height: 1, Value: value(9)})
	if len(out.Timers) != 1 || out.Timers[0].Step != StepPropose || out.Timers[0].After != explorerTimeouts.Propose {
		t.Fatalf("start: timers %v, want the propose timeout", out.Timers)
	}
	v := value(1)
	out = m.Handle(Receive{Msg: f.proposal(0, v, NoRound)})
	if len(out.Broadcast) != 1 || out.Broadcast[0].Type != TypePrevote || out.Broadcast[0].Value != v {
		t.Fatalf("proposal: sent %v, want a prevote for it", out.Broadcast)
	}
	out = f.votes(m, TypePrevote, 0, v, others(self, 4)[:2]...)
	if len(out.Broadcast) != 0 {
		t.Fatalf("two prevotes of four: sent %v", out.Broadcast)
	}
	out = f.votes(m, TypePrevote, 0, v, self)
	if len(out.Broadcast) != 1 || out.Broadcast[0].Type != TypePrecommit || out.Broadcast[0].Value != v {
		t.Fatalf("polka: sent %v, want a precommit", out.Broadcast)
	}
	if lv, lr := m.Locked(); lv != v || lr != 0 {
		t.Fatalf("locked %s in round %d, want %s in 0", lv, lr, v)
	}
	out = f.votes(m, TypePrecommit, 0, v, 0, 1, 2, 3)
	d := out.Decision
	if d == nil || d.Value != v || d.Round != 0 || len(d.Commit) < 3 {
		t.Fatalf("decision %+v", d)
	}
	for _, c := range d.Commit {
		if err := Verify(testChain, f.vals, Ed25519Verifier{}, c); err != nil {
			t.Fatalf("commit vote: %v", err)
		}
	}
}

// TestLockHoldsUntilALaterPolka drives lines 22 and 28: a validator locked
// on v prevotes nil for another value proposed fresh, and prevotes for it
// once it comes with a polka from a round at or after the lock.
func TestLockHoldsUntilALaterPolka(t *testing.T) {
	f := newFixture(t)
	self := f.notProposer(2)
	m := f.machine(self)
	m.Handle(NewHeight{Height: 1, Value: value(9)})
	v, w := value(1), value(2)
	m.Handle(Receive{Msg: f.proposal(0, v, NoRound)})
	f.votes(m, TypePrevote, 0, v, 0, 1, 2, 3)
	if lv, _ := m.Locked(); lv != v {
		t.Fatalf("not locked on %s", v)
	}
	f.votes(m, TypePrecommit, 0, Nil, others(self, 4)...)
	m.Handle(Timeout{Height: 1, Round: 0, Step: StepPrecommit})
	if m.Round() != 1 {
		t.Fatalf("round %d after the precommit timeout, want 1", m.Round())
	}
	out := m.Handle(Receive{Msg: f.proposal(1, w, NoRound)})
	if len(out.Broadcast) != 1 || out.Broadcast[0].Value != Nil {
		t.Fatalf("locked on v, fresh proposal of w: sent %v, want a nil prevote", out.Broadcast)
	}
	// Round 1 sees a polka for w (the others' prevotes), and moves on.
	f.votes(m, TypePrevote, 1, w, others(self, 4)...)
	if vv, vr := m.Valid(); vv != w || vr != 1 {
		t.Fatalf("valid %s in %d, want %s in 1", vv, vr, w)
	}
	f.votes(m, TypePrecommit, 1, Nil, others(self, 4)...)
	m.Handle(Timeout{Height: 1, Round: 1, Step: StepPrecommit})
	out = m.Handle(Receive{Msg: f.proposal(2, w, 1)})
	if len(out.Broadcast) != 1 || out.Broadcast[0].Value != w {
		t.Fatalf("proposal of w with the polka of round 1 after a lock in 0: sent %v, want a prevote for w", out.Broadcast)
	}
}

// TestRoundSkipOnAThirdOfHigherRound checks line 55: messages of a higher
// round from more than a third of the stake move the machine there.
func TestRoundSkipOnAThirdOfHigherRound(t *testing.T) {
	f := newFixture(t, 3, 1, 1, 1)
	m := f.machine(1)
	m.Handle(NewHeight{Height: 1, Value: value(9)})
	f.votes(m, TypePrevote, 5, Nil, 2, 3)
	if m.Round() != 0 {
		t.Fatalf("a third exactly moved the machine to round %d", m.Round())
	}
	f.votes(m, TypePrecommit, 5, Nil, 0)
	if m.Round() != 5 {
		t.Fatalf("more than a third in round 5: machine in round %d", m.Round())
	}
}

// TestCommitOfAnyRoundDecides checks line 49: a proposal and a quorum of
// precommits of another round decide, wherever the machine is.
func TestCommitOfAnyRoundDecides(t *testing.T) {
	f := newFixture(t)
	m := f.machine(f.notProposer(0))
	m.Handle(NewHeight{Height: 1, Value: value(9)})
	v := value(3)
	m.Handle(Receive{Msg: f.proposal(3, v, NoRound)})
	out := f.votes(m, TypePrecommit, 3, v, 0, 1, 2)
	if out.Decision == nil || out.Decision.Value != v || out.Decision.Round != 3 {
		t.Fatalf("decision %+v, want %s in round 3", out.Decision, v)
	}
}

func TestTimeoutsGrowWithTheRound(t *testing.T) {
	for _, s := range []Step{StepPropose, StepPrevote, StepPrecommit} {
		for r := Round(0); r < 10; r++ {
			if d := explorerTimeouts.For(s, r+1) - explorerTimeouts.For(s, r); d <= 0 {
				t.Fatalf("%s timeout of round %d not above round %d's", s, r+1, r)
			}
		}
	}
	if got := (Timeouts{Propose: 3 * time.Second, ProposeDelta: 500 * time.Millisecond}).For(StepPropose, 4); got != 5*time.Second {
		t.Fatalf("propose timeout of round 4: %v, want 5s", got)
	}
}

// TestDoubleVoteMakesEvidence: a machine that receives two prevotes of one
// validator for one round returns evidence anyone can verify, and a forged
// or harmless pair does not verify.
func TestDoubleVoteMakesEvidence(t *testing.T) {
	f := newFixture(t)
	m := f.machine(0)
	m.Handle(NewHeight{Height: 1, Value: value(9)})
	a, b := f.msg(TypePrevote, 0, value(1), 2), f.msg(TypePrevote, 0, value(2), 2)
	m.Handle(Receive{Msg: a})
	out := m.Handle(Receive{Msg: b})
	if len(out.Evidence) != 1 {
		t.Fatalf("evidence %v, want one", out.Evidence)
	}
	ev := out.Evidence[0]
	if err := ev.Verify(testChain, f.vals, Ed25519Verifier{}); err != nil {
		t.Fatalf("evidence does not verify: %v", err)
	}
	if ev.Validator() != 2 {
		t.Fatalf("evidence against %d, want 2", ev.Validator())
	}
	forged := ev
	forged.B.Sig = append([]byte(nil), ev.B.Sig...)
	forged.B.Sig[0] ^= 1
	otherRound := NewDuplicateVoteEvidence(a, f.msg(TypePrevote, 1, value(2), 2))
	sameValue := NewDuplicateVoteEvidence(a, a)
	wrongChain := ev
	for name, e := range map[string]DuplicateVoteEvidence{"forged": forged, "other round": otherRound, "same value": sameValue} {
		if err := e.Verify(testChain, f.vals, Ed25519Verifier{}); err == nil {
			t.Errorf("%s evidence verifies", name)
		}
	}
	if err := wrongChain.Verify("another-chain", f.vals, Ed25519Verifier{}); err == nil {
		t.Errorf("evidence verifies for another chain")
	}
	if got := FindEvidence([]Message{a, f.msg(TypePrecommit, 0, value(1), 2), b, b}); len(got) != 1 || got[0].A.Value != ev.A.Value || got[0].B.Value != ev.B.Value {
		t.Errorf("FindEvidence: %v", got)
	}
}

func TestSafeSignerRefusesConflicts(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "last_signed.json")
	s, err := OpenSafeSigner(testChain, Ed25519Signer{Key: f.keys[0]}, path)
	if err != nil {
		t.Fatal(err)
	}
	vote := Message{Type: TypePrevote, Height: 5, Round: 2, Value: value(1), ValidRound: NoRound, Validator: 0}
	first, err := s.Sign(vote)
	if err != nil {
		t.Fatal(err)
	}
	// Reopen: the record is on disk.
	s, err = OpenSafeSigner(testChain, Ed25519Signer{Key: f.keys[0]}, path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Sign(vote)
	if err != nil || string(again.Sig) != string(first.Sig) {
		t.Fatalf("same vote again: %v, signature equal %v", err, string(again.Sig) == string(first.Sig))
	}
	other := vote
	other.Value = Nil
	earlierRound, earlierHeight := vote, vote
	earlierRound.Round, earlierHeight.Height = 1, 4
	earlierStep := Message{Type: TypeProposal, Height: 5, Round: 2, Value: value(1), ValidRound: NoRound}
	for name, m := range map[string]Message{"other value": other, "earlier round": earlierRound,
		"earlier height": earlierHeight, "earlier step": earlierStep} {
		if _, err := s.Sign(m); !errors.Is(err, ErrDoubleSign) {
			t.Errorf("%s: %v, want ErrDoubleSign", name, err)
		}
	}
	later := vote
	later.Type = TypePrecommit
	if _, err := s.Sign(later); err != nil {
		t.Fatalf("precommit after the prevote: %v", err)
	}
}

// TestFarRoundsAreIgnored: a message of a round far ahead is not recorded
// (without the bound, finding its proposer would take a billion steps).
func TestFarRoundsAreIgnored(t *testing.T) {
	f := newFixture(t)
	m := f.machine(0)
	m.Handle(NewHeight{Height: 1, Value: value(9)})
	far := Message{Type: TypeProposal, Height: 1, Round: 1 << 30, Value: value(1), ValidRound: NoRound, Validator: 1}
	m.Handle(Receive{Msg: far})
	f.votes(m, TypePrevote, 1<<30, Nil, 1, 2, 3)
	if m.Round() != 0 || len(m.rounds) != 1 {
		t.Fatalf("far messages moved the machine to round %d, %d rounds recorded", m.Round(), len(m.rounds))
	}
}

// TestCommitCountsEveryVoteOfADoubleSigner: a validator that saw one half
// of an equivocation (another proposal first, and a double signer's other
// precommit) still decides on the commit the others decided on.
func TestCommitCountsEveryVoteOfADoubleSigner(t *testing.T) {
	f := newFixture(t)
	self := f.notProposer(0)
	m := f.machine(self)
	m.Handle(NewHeight{Height: 1, Value: value(9)})
	v, w := value(1), value(2)
	m.Handle(Receive{Msg: f.proposal(0, w, NoRound)})
	signers := others(self, 4)
	f.votes(m, TypePrecommit, 0, w, signers[0])
	m.Handle(Receive{Msg: f.proposal(0, v, NoRound)})
	out := f.votes(m, TypePrecommit, 0, v, signers...)
	if out.Decision == nil || out.Decision.Value != v {
		t.Fatalf("decision %+v, want %s on three precommits (one from the double signer)", out.Decision, v)
	}
	if len(out.Evidence) != 1 || out.Evidence[0].Validator() != signers[0] {
		t.Fatalf("evidence %v, want the double signer's", out.Evidence)
	}
}

// TestNewHeightAbandonsAnUndecidedHeight: a validator whose node learned
// height 1's decision elsewhere (a synced block and its commit) moves on
// to height 2 without deciding 1, and proposes or waits there.
func TestNewHeightAbandonsAnUndecidedHeight(t *testing.T) {
	f := newFixture(t)
	m := f.machine(f.notProposer(0))
	m.Handle(NewHeight{Height: 1, Value: Value{1}})
	if m.Decided() {
		t.Fatal("height 1 decided without messages")
	}
	out := m.Handle(NewHeight{Height: 2, Value: Value{2}})
	if m.Height() != 2 || m.Round() != 0 || m.Step() != StepPropose {
		t.Fatalf("at height %d, round %d, step %s: want height 2, round 0, propose", m.Height(), m.Round(), m.Step())
	}
	if len(out.Broadcast) == 0 && len(out.Timers) == 0 {
		t.Fatal("height 2 started without a proposal or a timer")
	}
	m.Handle(NewHeight{Height: 1, Value: Value{1}})
	if m.Height() != 2 {
		t.Fatalf("a NewHeight of an earlier height moved the machine to %d", m.Height())
	}
}
