package pos

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// linearProposer is the draw as first written: every stake read afresh from
// st, and a linear walk through the validators.
func linearProposer(e *Engine, st StateReader, slot uint64) common.Address {
	epoch := e.Epoch(slot)
	a, ok := getRec(st, keySeed)
	opened := ok && a.Nonce == epoch+1
	validators := e.ValidatorSet(st)
	total := new(big.Int)
	for _, v := range validators {
		total.Add(total, e.drawStake(st, v, epoch, opened))
	}
	if total.Sign() == 0 {
		return common.Address{}
	}
	seed := e.seed(st, epoch)
	r := new(big.Int).SetBytes(crypto.Keccak256(seed[:], u64(slot)))
	r.Mod(r, total)
	for _, v := range validators {
		s := e.drawStake(st, v, epoch, opened)
		if r.Cmp(s) < 0 {
			return v
		}
		r.Sub(r, s)
	}
	return validators[len(validators)-1]
}

// checkDraws compares e's (cached) draws for the next two epochs of slots
// after slot with the linear draw on st: a stake change that did not
// advance the stake digest would leave a stale table in e's cache.
func checkDraws(t *testing.T, e *Engine, st StateReader, slot uint64) {
	t.Helper()
	for s := slot; s < slot+2*e.g.EpochLength; s++ {
		if got, want := e.Proposer(st, s), linearProposer(e, st, s); got != want {
			t.Fatalf("slot %d: the draw gives %s, stakes read afresh give %s", s, got.Hex(), want.Hex())
		}
	}
}

// TestDrawTablePicksAsTheLinearWalk: the binary search over running sums
// picks what walking the stakes picks, zero stakes included.
func TestDrawTablePicksAsTheLinearWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		n := 1 + rng.IntN(20)
		tbl := &drawTable{}
		stakes := make(map[common.Address]*big.Int)
		sum := new(big.Int)
		for i := 0; i < n; i++ {
			v := common.BytesToAddress([]byte{byte(i + 1)})
			s := big.NewInt(0)
			if rng.IntN(3) > 0 {
				s = new(big.Int).Mul(big.NewInt(rng.Int64N(1000)), big.NewInt(1e18))
			}
			stakes[v] = s
			sum.Add(sum, s)
			tbl.validators = append(tbl.validators, v)
			tbl.cumulative = append(tbl.cumulative, new(big.Int).Set(sum))
		}
		seed := common.Hash{byte(trial)}
		for slot := uint64(0); slot < 50; slot++ {
			want := common.Address{}
			if sum.Sign() > 0 {
				r := new(big.Int).SetBytes(crypto.Keccak256(seed[:], u64(slot)))
				r.Mod(r, sum)
				for _, v := range tbl.validators {
					if r.Cmp(stakes[v]) < 0 {
						want = v
						break
					}
					r.Sub(r, stakes[v])
				}
			}
			if got := tbl.pick(seed, slot); got != want {
				t.Fatalf("trial %d slot %d: picked %s, the walk picks %s", trial, slot, got.Hex(), want.Hex())
			}
		}
	}
}
