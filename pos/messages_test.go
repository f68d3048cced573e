package pos

import (
	"crypto/ecdsa"
	"math/big"
	"testing"

	"github.com/chaind/chaind/chain"
	clocks "github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// TestValidatorWithoutBalanceVotes: validators whose accounts hold no wei
// vote, and their votes justify. No account is funded and blocks pay no
// reward, so no validator ever holds a wei; validators 0 and 2 (40 and 30
// of 100) run, 1 is offline, so both votes are needed. As transactions the
// votes could not pay for gas, and nothing was ever justified.
func TestValidatorWithoutBalanceVotes(t *testing.T) {
	g := testGenesis(40, 30, 30)
	clear(g.Alloc)
	g.BlockReward = chain.NewBigInt(new(big.Int))
	net := &validatorNet{t: t, clk: clocks.NewSim(genesisTime)}
	net.addNode(g, 0, key(0))
	net.addNode(g, 0, key(2))
	net.run(6 * int(Section(g).EpochLength))
	for i, n := range net.nodes {
		st := HeadState{n.c}
		for v := range 3 {
			if n.c.Account(addr(v)).Balance.Sign() != 0 {
				t.Fatalf("validator %d holds wei", v)
			}
		}
		if just := n.e.justified(st); just.Epoch < 3 {
			t.Fatalf("node %d: justified epoch %d after 6 epochs with 70%% of stake voting", i, just.Epoch)
		}
	}
}

// TestVotesOnTheChannelAreIncludedByTheNextProposer: each validator's
// votes travel to the other nodes on the vote channel, enter their pools,
// and the next proposers include them in their blocks' bodies, which the
// headers commit to.
func TestVotesOnTheChannelAreIncludedByTheNextProposer(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	net := newValidatorNet(t, g, nil)
	net.run(6 * int(Section(g).EpochLength))
	n := net.nodes[0]
	included := map[int]bool{}
	for h := uint64(1); h <= n.c.Head().Height(); h++ {
		b, err := n.c.BlockByHeight(h)
		if err != nil {
			t.Fatal(err)
		}
		body, err := DecodeBody(b.Consensus)
		if err != nil {
			t.Fatal(err)
		}
		if (len(body.Votes) > 0) != (b.Header.ConsensusRoot != (common.Hash{})) {
			t.Fatalf("block %d: %d votes, consensus root %x", h, len(body.Votes), b.Header.ConsensusRoot)
		}
		for _, sv := range body.Votes {
			for i := range 4 {
				if sv.Validator == addr(i) && b.Header.Coinbase != addr(i) {
					included[i] = true
				}
			}
		}
	}
	if len(included) != 4 {
		t.Fatalf("votes of validators %v included by other proposers, want all four", included)
	}
	if n.c.Finalized().Number == 0 {
		t.Fatal("nothing finalized")
	}
}

// TestJunkVoteFloodIsBounded: every slot, node 0's vote channel is flooded
// with junk: votes with bad signatures, votes of keys that are no
// validator, far-future votes of a real validator's key, and oversized
// messages. The bad ones are refused as their sender's fault, none enters
// the vote pool or the fork choice, the slasher's queue never holds more
// than maxObserved, the pool never more than votesPerValidator votes per
// validator, and honest finality advances on every node as without it.
func TestJunkVoteFloodIsBounded(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	net := newValidatorNet(t, g, nil)
	var strangers []*ecdsa.PrivateKey
	for i := range 32 {
		k, err := crypto.ToECDSA(crypto.Keccak256([]byte{byte(i), 'j', 'u', 'n', 'k'}))
		if err != nil {
			t.Fatal(err)
		}
		strangers = append(strangers, k)
	}
	n, v := net.nodes[0], net.vals[0]
	msgs := Messages{Chain: n.c, Engine: n.e, Validator: v}
	const perKind, epochs = 2100, 6 // 8,400 junk messages a slot, 4,200 of them signed by their key
	refused, junk, capped := 0, 0, false
	for s := 0; s < epochs*int(Section(g).EpochLength); s++ {
		epoch := n.e.Epoch(n.e.SlotAt(net.clk.Now()))
		for j := range perKind {
			target := Checkpoint{Epoch: epoch + 1, Hash: common.BytesToHash([]byte{byte(j), byte(j >> 8), byte(s)})}
			bad := signedVote(t, g, key(1), Vote{Target: target})
			bad.Sig[7] ^= 0xff
			stranger := signedVote(t, g, strangers[j%len(strangers)], Vote{Target: target})
			future := signedVote(t, g, key(1), Vote{Target: Checkpoint{Epoch: epoch + 1000 + uint64(j), Hash: target.Hash}})
			for _, sv := range []SignedVote{bad, stranger, future} {
				junk++
				relay, err := msgs.Vote(sv)
				if relay {
					t.Fatalf("slot %d: a junk vote was pooled and relayed", s)
				}
				if err != nil {
					refused++
				}
			}
			junk++
			if _, err := DecodeVoteMsg(append(stranger.Encode(), make([]byte, MaxVoteSize)...)); err != nil {
				refused++
			}
		}
		v.mu.Lock()
		queued := len(v.observed)
		v.mu.Unlock()
		if queued > maxObserved {
			t.Fatalf("slot %d: %d votes queued for the slasher, bound %d", s, queued, maxObserved)
		}
		capped = capped || queued == maxObserved
		if pooled := n.e.PooledVotes(); pooled > len(Section(g).Validators)*votesPerValidator {
			t.Fatalf("slot %d: %d votes pooled for %d validators", s, pooled, len(Section(g).Validators))
		}
		net.run(1)
	}
	if !capped {
		t.Fatal("the flood never filled the slasher's queue: the bound was not tested")
	}
	if refused != 2*perKind*epochs*int(Section(g).EpochLength) {
		t.Fatalf("%d of %d junk messages refused as the sender's fault, want the bad signatures and the oversized", refused, junk)
	}
	f := n.c.ForkChoice().(*forkChoice)
	f.mu.Lock()
	latest := len(f.latest)
	f.mu.Unlock()
	if latest > len(Section(g).Validators) {
		t.Fatalf("the fork choice holds %d latest votes for %d validators", latest, len(Section(g).Validators))
	}
	_, votes, _ := v.cfg.Slasher.Records()
	if bound := len(Section(g).Validators) * epochs; votes > bound {
		t.Fatalf("the slasher recorded %d votes, more than one per validator and epoch (%d)", votes, bound)
	}
	for i, m := range net.nodes {
		if fin := m.e.finalized(HeadState{m.c}); fin.Epoch < epochs-3 {
			t.Fatalf("node %d finalized epoch %d after %d epochs of junk", i, fin.Epoch, epochs)
		}
		if m.e.Slashed(HeadState{m.c}, addr(1)) {
			t.Fatal("validator 1 slashed for votes far in the future")
		}
	}
}
