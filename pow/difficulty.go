package pow

import (
	"fmt"
	"math/big"

	"github.com/chaind/chaind/chain"
)

// Difficulty adjustment: relative ASERT with a capped solve time.
//
// Block n+1's target is its parent's target times
//
//	2^((min(s, C) - T) / H)
//
// where s is the parent's solve time (its timestamp minus its own parent's),
// T the target interval, H the half-life (genesis asert_half_life, default
// 64 T), F the allowed drift (genesis max_future, default 2 T for PoW) and
// C = max(8 T, F + 6 T) the cap.
//
// Why this rule, and not ASERT anchored at genesis (what chaind used before):
//
//   - No storm after a stall. An anchored schedule owes every block the
//     chain fell behind: after a stall of D it makes blocks 2^(D/H) easier
//     until the debt is repaid, a burst of D/T blocks. Here a stall is one
//     solve time, capped at C, so one block is at most 2^(C/H) easier (9%
//     at the defaults) and the chain carries on at the pace of its hash
//     power. TestStallMintsNoStorm.
//   - The timestamp lever is bounded. A producer may date a block up to F
//     ahead. That lengthens one solve time by at most F and shortens the
//     next by as much, so one block gets at most 2^(F/H) easier (2.2% at the
//     defaults); it does not accumulate because the solve times telescope to
//     the newest timestamp, never more than F ahead of real time. The cap
//     sits 6 T above F so that a block dated F ahead is clipped only when
//     its real solve time exceeds 6 T (probability e^-6): otherwise a
//     minority dating every block ahead could make the rule drop the time
//     between its blocks and slow everyone. TestTimestampLeverIsAFewPercent.
//   - No long-run bias. log2(target) moves by (min(s,C) - T)/H per block
//     and stays bounded, so the mean of min(s,C) converges to T; the cap
//     takes away at most T e^-8 (0.03%) of an exponential solve time.
//     TestRuleHasNoLongRunBias.
//   - It needs only the parent and grandparent headers and is integer
//     arithmetic: the exponent is 16.16 fixed point rounded to nearest, and
//     2^frac uses the aserti3-2d cubic, so every node computes the same bits.
//
// The price of a long half-life is slow adaptation to a change in hash
// power (a factor 2 takes about H/T blocks), which is why the initial
// difficulty must be right: a declared hash rate (the miner is throttled to
// it) gives it exactly; see Engine.SetHashrate.

// maxTarget is the easiest target: any hash meets it.
var maxTarget = new(big.Int).Sub(chain.TwoTo256, big.NewInt(1))

// solveCap is C, the most a solve time counts for.
func solveCap(g *chain.Genesis) int64 {
	t := g.BlockTime.D().Milliseconds()
	return max(8*t, g.MaxFuture.D().Milliseconds()+6*t)
}

// NextTarget is the target of the block after parent; grand is parent's
// parent, nil when parent is the genesis block (whose child keeps the
// genesis target).
func NextTarget(g *chain.Genesis, grand, parent *chain.Header) *big.Int {
	base := chain.CompactToBig(parent.Bits)
	if grand == nil {
		return base
	}
	spacing := g.BlockTime.D().Milliseconds()
	halfLife := Section(g).HalfLife.D().Milliseconds()
	solve := min(int64(parent.Time)-int64(grand.Time), solveCap(g))

	// exponent in 16.16 fixed point, rounded to nearest (floor division of
	// a value shifted by half the divisor); |exponent| <= C/H, computed in
	// big.Int so that no genesis can overflow it.
	num := big.NewInt(solve - spacing)
	num.Lsh(num, 16)
	num.Add(num, big.NewInt(halfLife/2))
	e := num.Div(num, big.NewInt(halfLife)).Int64() // Euclidean: floor for H > 0
	return scaleByPow2(base, e)
}

// scaleByPow2 returns t * 2^(e/65536), clamped to [1, maxTarget].
func scaleByPow2(t *big.Int, e int64) *big.Int {
	shifts := e >> 16 // arithmetic shift: floor
	frac := uint64(e & 0xffff)
	factor := 65536 + ((195766423245049*frac + 971821376*frac*frac + 5127*frac*frac*frac + (1 << 47)) >> 48)
	next := new(big.Int).Mul(t, new(big.Int).SetUint64(factor))
	if shifts < 0 {
		next.Rsh(next, uint(-shifts))
	} else {
		next.Lsh(next, uint(shifts))
	}
	next.Rsh(next, 16)
	switch {
	case next.Sign() == 0:
		return big.NewInt(1)
	case next.Cmp(maxTarget) > 0:
		return new(big.Int).Set(maxTarget)
	}
	return next
}

// NextBits is NextTarget in compact form, the value a header must carry.
func NextBits(g *chain.Genesis, grand, parent *chain.Header) uint32 {
	return chain.BigToCompact(NextTarget(g, grand, parent))
}

// BitsAfter reads parent's parent from c and returns the bits of parent's
// child: the difficulty rule as a chain applies it.
func BitsAfter(c chain.ChainReader, parent *chain.Header) (uint32, error) {
	var grand *chain.Header
	if parent.Height > 0 {
		if grand = c.GetHeader(parent.ParentHash); grand == nil {
			return 0, fmt.Errorf("difficulty of block %d: parent's parent %x unknown", parent.Height+1, parent.ParentHash)
		}
	}
	return NextBits(c.Genesis(), grand, parent), nil
}
