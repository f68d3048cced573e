package pos

import (
	"math/big"
	"sort"
	"sync"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The proposer of a slot is drawn from the epoch's seed, each validator with
// probability proportional to its stake. The draw reads every validator's
// stake, so an engine keeps the table of cumulative stakes it drew from,
// keyed by the state's stake digest: a hash chained over every write to a
// record the draw reads (stakes, pending bonds, exits and the validator
// list). Equal digests mean equal stakes on any branch, so the cache is
// exact, and a draw costs a few record reads and a binary search instead of
// reading a thousand validators' stakes in every slot at every node.

// keyStakeDigest holds the stake digest (balance).
var keyStakeDigest = sysKey("stake-digest")

// setStakeRec writes a record the proposer draw reads and advances the stake
// digest past the write.
func setStakeRec(st *chain.State, key common.Hash, r rec) {
	setRec(st, key, r)
	d, _ := getRec(st, keyStakeDigest)
	var value [32]byte
	if r.Value != nil {
		r.Value.FillBytes(value[:])
	}
	prev := hashOf(d)
	next := crypto.Keccak256(prev[:], key[:], u64(r.Nonce), value[:])
	setRec(st, keyStakeDigest, rec{Value: new(big.Int).SetBytes(next)})
}

// Proposer draws the proposer of slot from the epoch's seed, each validator
// with probability proportional to its stake. For an epoch that st has not
// opened yet, pending bonds count and due exits do not: its first block
// will settle them.
func (e *Engine) Proposer(st StateReader, slot uint64) common.Address {
	epoch := e.Epoch(slot)
	opened := false
	if a, ok := getRec(st, keySeed); ok && a.Nonce == epoch+1 {
		opened = true
	}
	return e.drawTable(st, epoch, opened).pick(e.seed(st, epoch), slot)
}

// drawTable is what a draw picks from: the validators in the order of
// ValidatorSet and the running sums of their stakes.
type drawTable struct {
	validators []common.Address
	cumulative []*big.Int // cumulative[i]: the stakes of validators[0..i]
}

// pick chooses with probability stake/total, using keccak(seed, slot) as
// the random number; zero when no validator has stake.
func (t *drawTable) pick(seed common.Hash, slot uint64) common.Address {
	if len(t.cumulative) == 0 || t.cumulative[len(t.cumulative)-1].Sign() == 0 {
		return common.Address{}
	}
	r := new(big.Int).SetBytes(crypto.Keccak256(seed[:], u64(slot)))
	r.Mod(r, t.cumulative[len(t.cumulative)-1])
	return t.validators[sort.Search(len(t.cumulative), func(i int) bool { return t.cumulative[i].Cmp(r) > 0 })]
}

// drawKey names a table: the stake digest, and the epoch when st has not
// opened it yet (its pending bonds and due exits count), openedEpoch
// otherwise.
type drawKey struct {
	digest common.Hash
	epoch  uint64
}

const openedEpoch = ^uint64(0)

// drawCache holds recent tables; it is cleared when full.
type drawCache struct {
	mu     sync.Mutex
	tables map[drawKey]*drawTable
}

const maxDrawTables = 8

// drawTable returns the table of st for epoch, from the cache if it can.
func (e *Engine) drawTable(st StateReader, epoch uint64, opened bool) *drawTable {
	d, _ := getRec(st, keyStakeDigest)
	k := drawKey{digest: hashOf(d), epoch: openedEpoch}
	if !opened {
		k.epoch = epoch
	}
	e.draws.mu.Lock()
	t := e.draws.tables[k]
	e.draws.mu.Unlock()
	if t != nil {
		return t
	}
	t = &drawTable{validators: e.ValidatorSet(st)}
	sum := new(big.Int)
	for _, v := range t.validators {
		sum.Add(sum, e.drawStake(st, v, epoch, opened))
		t.cumulative = append(t.cumulative, new(big.Int).Set(sum))
	}
	e.draws.mu.Lock()
	if e.draws.tables == nil || len(e.draws.tables) >= maxDrawTables {
		e.draws.tables = make(map[drawKey]*drawTable)
	}
	e.draws.tables[k] = t
	e.draws.mu.Unlock()
	return t
}

// drawStake is v's weight in the draw for epoch.
func (e *Engine) drawStake(st StateReader, v common.Address, epoch uint64, opened bool) *big.Int {
	s := e.Stake(st, v)
	if opened {
		return s
	}
	if p, _ := getRec(st, keyPending(v)); p.Value.Sign() > 0 {
		s = new(big.Int).Add(s, p.Value)
	}
	if x, _ := getRec(st, keyExiting(v)); x.Value.Sign() > 0 && x.Nonce <= epoch {
		s = new(big.Int).Sub(s, x.Value)
	}
	return s
}
