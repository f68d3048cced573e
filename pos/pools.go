package pos

import (
	"bytes"
	"slices"
	"sync"

	"github.com/ethereum/go-ethereum/common"
)

// The engine's pools of consensus messages: the votes and evidence its
// node received or made, from which its proposers fill blocks'
// consensus bodies (BuildConsensus). Both are bounded by the validator
// set, whatever peers send: a vote or evidence enters only once its
// signature is checked and its validator (or offender) is a validator of
// the head state, a validator keeps at most votesPerValidator targets, and
// an offender one piece of evidence.

// votesPerValidator is how many target epochs of one validator the vote
// pool keeps: the latest ones.
const votesPerValidator = 4

// maxPooledEvidence bounds the evidence pool, in offenders.
const maxPooledEvidence = 1024

// votePool holds, per validator, its first vote for each of its latest
// votesPerValidator target epochs.
type votePool struct {
	mu    sync.Mutex
	votes map[common.Address][]SignedVote // by ascending target epoch
}

// add pools sv; it reports whether sv is new (not a second vote for a
// pooled target, nor older than every pooled target of a full list).
func (p *votePool) add(sv SignedVote) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.votes == nil {
		p.votes = make(map[common.Address][]SignedVote)
	}
	list := p.votes[sv.Validator]
	t := sv.Vote.Target.Epoch
	i, found := slices.BinarySearchFunc(list, t, func(x SignedVote, t uint64) int { return cmpU64(x.Vote.Target.Epoch, t) })
	switch {
	case found:
		return false
	case len(list) == votesPerValidator && i == 0:
		return false
	}
	list = slices.Insert(list, i, sv)
	if len(list) > votesPerValidator {
		list = slices.Delete(list, 0, 1)
	}
	p.votes[sv.Validator] = list
	return true
}

// has reports whether v has a pooled vote for target epoch t.
func (p *votePool) has(v common.Address, t uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.ContainsFunc(p.votes[v], func(x SignedVote) bool { return x.Vote.Target.Epoch == t })
}

// prune drops the votes for targets before epoch below.
func (p *votePool) prune(below uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for v, list := range p.votes {
		list = slices.DeleteFunc(list, func(x SignedVote) bool { return x.Vote.Target.Epoch < below })
		if len(list) == 0 {
			delete(p.votes, v)
		} else {
			p.votes[v] = list
		}
	}
}

// list is every pooled vote, by target epoch and validator address: older
// targets first, as a body applies them in order and a vote counts only
// from the justified checkpoint of its turn.
func (p *votePool) list() []SignedVote {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []SignedVote
	for _, list := range p.votes {
		out = append(out, list...)
	}
	slices.SortFunc(out, func(a, b SignedVote) int {
		if c := cmpU64(a.Vote.Target.Epoch, b.Vote.Target.Epoch); c != 0 {
			return c
		}
		return bytes.Compare(a.Validator[:], b.Validator[:])
	})
	return out
}

// size is the number of pooled votes.
func (p *votePool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, list := range p.votes {
		n += len(list)
	}
	return n
}

// evidencePool holds the first evidence against each offender, in the
// order it arrived.
type evidencePool struct {
	mu        sync.Mutex
	offenders map[common.Address]bool
	evidence  []Evidence
}

// add pools ev against offender; it reports whether it is new.
func (p *evidencePool) add(offender common.Address, ev Evidence) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.offenders == nil {
		p.offenders = make(map[common.Address]bool)
	}
	if p.offenders[offender] || len(p.evidence) >= maxPooledEvidence {
		return false
	}
	p.offenders[offender] = true
	p.evidence = append(p.evidence, ev)
	return true
}

// list is the pooled evidence, oldest first.
func (p *evidencePool) list() []Evidence {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.evidence)
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AddVote puts sv, a vote its node received or made, into the vote pool,
// checked against st (the head state). The error is a signature that is
// not its validator's on this chain: the sender's fault. A vote that
// cannot be of use (the finality gadget off, a voter that is not a
// validator or is slashed, a target at or before st's finalized epoch or
// after the next epoch, a target already pooled) is not pooled: added
// reports whether sv was, and so should be passed on.
func (e *Engine) AddVote(st StateReader, sv SignedVote) (added bool, err error) {
	if err := e.VerifyVote(sv); err != nil {
		return false, err
	}
	return e.addVerifiedVote(st, sv), nil
}

func (e *Engine) addVerifiedVote(st StateReader, sv SignedVote) bool {
	fin := e.finalized(st).Epoch
	now := e.Epoch(e.SlotAt(e.now()))
	t := sv.Vote.Target.Epoch
	if !e.cfg.FinalityOn() || t <= fin || t > now+1 || !e.isValidator(st, sv.Validator) || e.Slashed(st, sv.Validator) {
		return false
	}
	e.votes.prune(fin + 1)
	return e.votes.add(sv)
}

// AddEvidence puts ev into the evidence pool unless it proves nothing
// (the error: the sender's fault), its offender is not a validator of st
// or is slashed there, or the pool holds evidence against the offender
// already: added reports whether it was pooled, and so should be passed
// on.
func (e *Engine) AddEvidence(st StateReader, ev Evidence) (offender common.Address, added bool, err error) {
	offender, err = e.checkEvidence(&ev)
	if err != nil {
		return offender, false, err
	}
	if !e.isValidator(st, offender) || e.Slashed(st, offender) {
		return offender, false, nil
	}
	return offender, e.evidence.add(offender, ev), nil
}

// Censor makes e's proposals carry only its own keys' votes and no
// evidence (the Byzantine behaviour ByzCensor).
func (e *Engine) Censor(on bool) { e.censor.Store(on) }

func (e *Engine) censoring() bool { return e.censor.Load() }

// PooledVotes is the number of votes in the pool.
func (e *Engine) PooledVotes() int { return e.votes.size() }

// Pooled returns the pooled votes and evidence, to send a newly connected
// peer: what it missed while apart (a partition, a restart) reaches its
// slasher and pools at once rather than with later blocks, which a peer on
// a branch it refuses never sends it.
func (e *Engine) Pooled() ([]SignedVote, []Evidence) { return e.votes.list(), e.evidence.list() }

// pooledVote reports whether the pool holds v's vote for target epoch t.
func (e *Engine) pooledVote(v common.Address, t uint64) bool { return e.votes.has(v, t) }
