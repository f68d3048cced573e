package pos

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	clocks "github.com/chaind/chaind/clock"
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
	for s := slot; s < slot+2*e.cfg.EpochLength; s++ {
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

// TestSlashingKeepsTheEpochsSchedule: a validator slashed in the middle of
// an epoch keeps the epoch's schedule as it was drawn when the epoch began
// (its own slots stay empty: a block of a slashed proposer is refused); the
// next epoch's draw leaves it out.
func TestSlashingKeepsTheEpochsSchedule(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	Section(g).EpochLength = 32
	clk := clocks.NewSim(genesisTime)
	v := newNode(t, g, clk, nil)
	slotsOn(t, v, clk, Section(g).EpochLength+4) // a few blocks into epoch 1
	epoch := v.e.Epoch(v.e.SlotAt(clk.Now()))
	from, end := v.e.SlotAt(clk.Now())+2, (epoch+1)*Section(g).EpochLength
	before := make(map[uint64]common.Address)
	for s := from; s < end; s++ {
		before[s] = v.e.Proposer(HeadState{v.c}, s)
	}
	// The validator with the most slots left in the epoch, other than the
	// next slot's proposer, signs two headers for one slot; the next block
	// carries the evidence.
	reporter := v.e.Proposer(HeadState{v.c}, from-1)
	count := map[common.Address]int{}
	for _, p := range before {
		count[p]++
	}
	var offender common.Address
	for _, p := range v.e.ValidatorSet(HeadState{v.c}) {
		if p != reporter && count[p] > count[offender] {
			offender = p
		}
	}
	head := v.c.Head().Header
	var raw [2][]byte
	for i := range raw {
		h := head.Copy()
		h.Coinbase = offender
		h.StateRoot = common.Hash{byte(i + 1)}
		sig, err := sign(v.e.BlockSigningRoot(h), keyOf(t, offender))
		if err != nil {
			t.Fatal(err)
		}
		h.Seal = append(sig, make([]byte, crypto.SignatureLength)...)
		raw[i], _ = h.MarshalBinary()
	}
	clk.Advance(slotMs * time.Millisecond)
	proposeOn(t, v, clk, Evidence{Kind: DoubleProposal, A: raw[0], B: raw[1]})
	if !v.e.Slashed(HeadState{v.c}, offender) {
		t.Fatal("the evidence did not slash")
	}
	changed := 0
	for s := from; s < end; s++ {
		if got := v.e.Proposer(HeadState{v.c}, s); got != before[s] {
			changed++
		}
	}
	if changed != 0 {
		t.Fatalf("a slashing in epoch %d redrew %d of its %d later slots", epoch, changed, end-from)
	}
	// The offender's next slot in the epoch is empty: its block is refused.
	for s := from; s < end; s++ {
		if before[s] != offender {
			continue
		}
		atSlot(clk, s)
		v.e.AddKey(keyOf(t, offender))
		if _, err := v.c.BuildBlock(offender, nil); !errors.Is(err, ErrWrongProposer) {
			t.Fatalf("a slashed proposer's block in its slot %d: %v, want %v", s, err, ErrWrongProposer)
		}
		break
	}
	for s := end; s < end+Section(g).EpochLength; s++ {
		if v.e.Proposer(HeadState{v.c}, s) == offender {
			t.Fatalf("slot %d of the next epoch is drawn for the slashed validator", s)
		}
	}
}
