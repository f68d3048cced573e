package pow

import (
	"math/big"

	"github.com/chaind/chaind/chain"
)

// Difficulty adjustment: ASERT (absolutely scheduled exponentially rising
// targets, the aserti3-2d algorithm of Bitcoin Cash), anchored at genesis.
//
// Block n+1's target is the genesis target times 2^((t_n - t_0 - T*n) / H):
// for every half-life H that the parent is behind the ideal schedule the
// target doubles (the block gets easier), for every H ahead it halves. We chose
// it over a windowed average (Bitcoin's 2016-block retarget, a moving average)
// because the target depends only on the parent's height and time, so it
// cannot oscillate, needs no window of past headers, recovers from a sudden
// change in hash power (a testnet node killed or restarted) within a few
// half-lives, and is what a modern PoW chain with short blocks would choose.
// The exponent's fractional part uses the reference cubic approximation of
// 2^x in 16-bit fixed point, so every node computes the same bits.

// maxTarget is the easiest target: any hash meets it.
var maxTarget = new(big.Int).Sub(chain.TwoTo256, big.NewInt(1))

// NextTarget is the target of the block after parent.
func NextTarget(g *chain.Genesis, genesis, parent *chain.Header) *big.Int {
	anchor := chain.CompactToBig(genesis.Bits)
	spacing := g.BlockTime.D().Milliseconds()
	halfLife := g.HalfLife.D().Milliseconds()
	timeDelta := int64(parent.Time) - int64(genesis.Time)
	heightDelta := int64(parent.Height)

	// exponent in 16.16 fixed point; computed in big.Int to rule out overflow.
	num := big.NewInt(timeDelta)
	num.Sub(num, new(big.Int).Mul(big.NewInt(spacing), big.NewInt(heightDelta)))
	num.Lsh(num, 16)
	exp := num.Quo(num, big.NewInt(halfLife)) // truncates toward zero, as aserti3-2d
	if exp.BitLen() > 40 {                    // 2^24 half-lives: the result is clamped anyway
		if exp.Sign() > 0 {
			return new(big.Int).Set(maxTarget)
		}
		return big.NewInt(1)
	}
	e := exp.Int64()
	shifts := e >> 16 // arithmetic shift: floor
	frac := uint64(e & 0xffff)
	factor := 65536 + ((195766423245049*frac + 971821376*frac*frac + 5127*frac*frac*frac + (1 << 47)) >> 48)

	next := new(big.Int).Mul(anchor, new(big.Int).SetUint64(factor))
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
func NextBits(g *chain.Genesis, genesis, parent *chain.Header) uint32 {
	return chain.BigToCompact(NextTarget(g, genesis, parent))
}
