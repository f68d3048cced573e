package pos

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/syndtr/goleveldb/leveldb"
)

// The slasher's vote records, after Prysm's: per validator and target
// epoch the first vote seen (for double votes), and per validator and epoch
// e two distances (for surround votes):
//
//	min span[e] = min (t - e) over its recorded votes (s, t) with s > e
//	max span[e] = max (t - e) over its recorded votes (s, t) with s < e < t
//
// 0 means none (a distance is at least 1). A vote whose target is not
// after its source (never an honest one) sets min spans only below its
// target, so a later vote whose source lies between its target and its
// source is not found to surround it; every other pair is. A new vote (s, t) surrounds a
// recorded one exactly when min span[s] < t - s (that vote's target is
// s + min span[s]), and a recorded vote surrounds it exactly when max
// span[s] > t - s (its target is s + max span[s]): one read each, whatever
// the number of votes, and the record at that target is the other half of
// the evidence. Recording a vote updates at most EvidenceWindow spans of
// each kind, and stops at the first span that already holds (a span that
// holds at e holds at every epoch further from s). The records are kept for
// the target epochs, and the spans for the epochs, of the evidence window
// (EvidenceWindow epochs before the current one, up to the next); a vote
// whose target lies outside it is not recorded.

var (
	slasherVotePrefix = []byte("v/") // v/ target epoch (8 bytes) validator (20) -> signed vote
	slasherSpanPrefix = []byte("s/") // s/ epoch (8 bytes) validator (20) -> min span (8), max span (8)
)

func epochKey(prefix []byte, epoch uint64, v common.Address) []byte {
	k := append(bytes.Clone(prefix), u64(epoch)...)
	return append(k, v[:]...)
}

// ObserveVote records sv, a finality vote the node received (on its
// channel or in a block's body, on any branch, whether the pool or the
// chain took it or not), and returns the
// evidence that slashes its validator if it doubles, surrounds or is
// surrounded by a vote recorded before; nil otherwise. A vote whose
// signature is not its validator's on this chain, whose validator is not
// (and never was) a validator of st, or whose target is outside the
// window, is not recorded; nor is a vote that is evidence, so
// that the same vote seen again proves it again. The error is a failure of
// the database.
func (s *Slasher) ObserveVote(st StateReader, sv SignedVote) (*Evidence, error) {
	e := s.e
	v, from := sv.Vote, sv.Validator
	nowSlot := e.SlotAt(e.now())
	now, lo := e.Epoch(nowSlot), s.lowEpoch(nowSlot)
	if v.Target.Epoch < lo || v.Target.Epoch > now+1 || !e.isValidator(st, from) || e.VerifyVote(sv) != nil {
		return nil, nil
	}
	raw := sv.Encode()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.prune(nowSlot); err != nil {
		return nil, err
	}
	prev, err := s.get(epochKey(slasherVotePrefix, v.Target.Epoch, from))
	if err != nil {
		return nil, err
	}
	if prev == nil {
		prev, err = s.surrounding(from, v)
		if err != nil {
			return nil, err
		}
	} else if pv, err := s.voteOf(prev); err != nil || pv == v {
		return nil, err // the same vote again, maybe with another signature
	}
	if prev != nil {
		return &Evidence{Kind: DoubleVote, A: prev, B: raw}, nil
	}
	return nil, s.recordVote(from, v, raw, lo)
}

// surrounding is the recorded vote of from that v surrounds
// or is surrounded by, or nil.
func (s *Slasher) surrounding(from common.Address, v Vote) ([]byte, error) {
	minSpan, maxSpan, err := s.spans(v.Source.Epoch, from)
	if err != nil {
		return nil, err
	}
	d := int64(v.Target.Epoch - v.Source.Epoch) // < 0 for a target before the source
	switch {
	case minSpan != 0 && int64(minSpan) < d: // v surrounds the vote for that target
		return s.get(epochKey(slasherVotePrefix, v.Source.Epoch+minSpan, from))
	case maxSpan != 0 && int64(maxSpan) > d: // the vote for that target surrounds v
		return s.get(epochKey(slasherVotePrefix, v.Source.Epoch+maxSpan, from))
	}
	return nil, nil
}

// recordVote records v, from's first vote for its target, and updates
// from's spans down to epoch lo.
func (s *Slasher) recordVote(from common.Address, v Vote, raw []byte, lo uint64) error {
	b := new(leveldb.Batch)
	b.Put(epochKey(slasherVotePrefix, v.Target.Epoch, from), raw)
	src, tgt := v.Source.Epoch, v.Target.Epoch
	for ep := min(src, tgt); ep > lo; { // min spans below the source (and the target)
		ep--
		minSpan, maxSpan, err := s.spans(ep, from)
		if err != nil {
			return err
		}
		if minSpan != 0 && minSpan <= tgt-ep {
			break
		}
		b.Put(epochKey(slasherSpanPrefix, ep, from), spanValue(tgt-ep, maxSpan))
	}
	for ep := max(src+1, lo); ep < tgt; ep++ { // max spans between source and target
		minSpan, maxSpan, err := s.spans(ep, from)
		if err != nil {
			return err
		}
		if maxSpan >= tgt-ep {
			break
		}
		b.Put(epochKey(slasherSpanPrefix, ep, from), spanValue(minSpan, tgt-ep))
	}
	if err := s.db.Write(b, nil); err != nil {
		return fmt.Errorf("slasher: %w", err)
	}
	return nil
}

func spanValue(minSpan, maxSpan uint64) []byte {
	return binary.BigEndian.AppendUint64(u64(minSpan), maxSpan)
}

// spans reads from's min and max spans at epoch.
func (s *Slasher) spans(epoch uint64, from common.Address) (minSpan, maxSpan uint64, err error) {
	b, err := s.get(epochKey(slasherSpanPrefix, epoch, from))
	if err != nil || b == nil {
		return 0, 0, err
	}
	if len(b) != 16 {
		return 0, 0, fmt.Errorf("slasher: span record of %d bytes at epoch %d", len(b), epoch)
	}
	return binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), nil
}

// voteOf decodes a recorded vote.
func (s *Slasher) voteOf(raw []byte) (Vote, error) {
	sv, err := DecodeSignedVote(raw)
	if err != nil {
		return Vote{}, fmt.Errorf("slasher: vote record: %w", err)
	}
	return sv.Vote, nil
}

// get reads key; nil if it is absent.
func (s *Slasher) get(key []byte) ([]byte, error) {
	b, err := s.db.Get(key, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("slasher: %w", err)
	}
	return b, nil
}

// lowEpoch is the first epoch whose votes and spans are kept at slot now.
func (s *Slasher) lowEpoch(now uint64) uint64 {
	if span := EvidenceWindow * s.e.cfg.EpochLength; now > span {
		return s.e.Epoch(now - span)
	}
	return 0
}
