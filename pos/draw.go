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

// keyDrawDigest holds (nonce: epoch + 1) the stake digest that the epoch's
// first block left after settling the stakes: it names the epoch's draw
// table for as long as the epoch lasts.
var keyDrawDigest = sysKey("draw-digest")

// Proposer draws the proposer of slot from the epoch's seed, each validator
// with probability proportional to its stake. An epoch's schedule is fixed
// when its first block opens it: the draw reads the stake snapshot taken
// then (ffg.go), so a slashing, bond or exit in the epoch changes the next
// epoch's draw, never the current one's. For an epoch that st has not
// opened yet, the draw reads the stakes its first block will settle
// (settledStake): both views of an epoch give one schedule.
func (e *Engine) Proposer(st StateReader, slot uint64) common.Address {
	epoch := e.Epoch(slot)
	return e.drawTable(st, epoch).pick(e.seed(st, epoch), slot)
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

// drawKey names a table: the stake digest st has now and the epoch when st
// has not opened it yet (its settlement is still to come), or the digest
// the epoch's first block left and openedEpoch.
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

// opened reports whether st has opened epoch, and the stake digest its
// first block left.
func opened(st StateReader, epoch uint64) (common.Hash, bool) {
	d, ok := getRec(st, keyDrawDigest)
	return hashOf(d), ok && d.Nonce == epoch+1
}

// drawTable returns the table of st for epoch, from the cache if it can.
func (e *Engine) drawTable(st StateReader, epoch uint64) *drawTable {
	digest, open := opened(st, epoch)
	k := drawKey{digest: digest, epoch: openedEpoch}
	if !open {
		d, _ := getRec(st, keyStakeDigest)
		k = drawKey{digest: hashOf(d), epoch: epoch}
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
		sum.Add(sum, e.drawStake(st, v, epoch, open))
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

// drawStake is v's weight in the draw for epoch: its stake in the epoch's
// snapshot once st has opened it, the stake the epoch's first block will
// settle before.
func (e *Engine) drawStake(st StateReader, v common.Address, epoch uint64, open bool) *big.Int {
	if open {
		return e.SnapshotStake(st, epoch, v)
	}
	return e.settledStake(st, v, epoch).stake
}
