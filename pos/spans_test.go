package pos

import (
	"crypto/ecdsa"
	"path/filepath"
	"testing"
	"time"

	clocks "github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

func vote(source, target uint64, tag byte) Vote {
	return Vote{Source: Checkpoint{Epoch: source, Hash: common.Hash{byte(source)}}, Target: Checkpoint{Epoch: target, Hash: common.Hash{byte(target), tag}}}
}

// TestSlasherVotes: the slasher proves double votes, votes that surround a
// recorded one and votes that a recorded one surrounds, with evidence the
// chain accepts, after a restart too; it records nothing for a vote of
// another chain or of an address that never was a validator, nothing twice
// for the same vote, and drops the records of the epochs that left the
// window.
func TestSlasherVotes(t *testing.T) {
	g := testGenesis(25, 25, 25, 25)
	clk := clocks.NewSim(genesisTime.Add(10 * 4 * slotMs * time.Millisecond)) // epoch 10
	e, err := New(g, nil, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	_, st := g.Block(e)
	dir := filepath.Join(t.TempDir(), SlasherDir)
	s, err := OpenSlasher(e, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	observe := func(k *ecdsa.PrivateKey, v Vote) *Evidence {
		t.Helper()
		ev, err := s.ObserveVote(st, signedVote(t, g, k, v))
		if err != nil {
			t.Fatal(err)
		}
		if ev != nil {
			if offender, err := e.checkEvidence(ev); err != nil || offender != crypto.PubkeyToAddress(k.PublicKey) {
				t.Fatalf("vote %+v: the evidence proves %s (%v)", v, offender.Hex(), err)
			}
		}
		return ev
	}
	for i, c := range []struct {
		name     string
		k        int
		v        Vote
		evidence bool
	}{
		{"first vote", 0, vote(5, 6, 0), false},
		{"the same vote again", 0, vote(5, 6, 0), false},
		{"another vote for the same target", 0, vote(5, 6, 1), true},
		{"a later vote", 0, vote(6, 8, 0), false},
		{"a vote surrounding a recorded one", 0, vote(4, 9, 0), true},
		{"a vote surrounded by a recorded one", 0, vote(7, 7, 0), true},
		{"another validator's long vote", 1, vote(2, 9, 0), false},
		{"a vote it surrounds", 1, vote(3, 5, 0), true},
		{"a vote beside it", 1, vote(9, 10, 0), false},
		{"a vote for the next epoch", 2, vote(9, 11, 0), false},
		{"a vote beyond the next epoch", 2, vote(9, 12, 0), false},
		{"a vote beyond the next epoch again", 2, vote(9, 12, 1), false},
	} {
		if ev := observe(key(c.k), c.v); (ev != nil) != c.evidence {
			t.Fatalf("%d (%s): evidence %v, want %v", i, c.name, ev != nil, c.evidence)
		}
	}
	stranger, _ := crypto.GenerateKey()
	observe(stranger, vote(5, 6, 0))
	if ev := observe(stranger, vote(5, 6, 1)); ev != nil {
		t.Fatal("a double vote of an address that never was a validator is evidence")
	}
	other := testGenesis(25, 25, 25, 26)
	if ev, err := s.ObserveVote(st, signedVote(t, other, key(3), vote(5, 6, 0))); ev != nil || err != nil {
		t.Fatalf("another chain's vote: %v, %v", ev, err)
	}
	if _, votes, _ := s.Records(); votes != 5 {
		t.Fatalf("%d votes recorded, want 5", votes)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = OpenSlasher(e, dir); err != nil {
		t.Fatal(err)
	}
	if observe(key(1), vote(1, 10, 0)) == nil {
		t.Fatal("after a restart, a vote surrounding a recorded one is no evidence")
	}
	if observe(key(3), vote(9, 11, 0)) != nil {
		t.Fatal("a first vote is evidence")
	}
	clk.Advance(time.Duration(EvidenceWindow+12) * 4 * slotMs * time.Millisecond) // epoch 86: the window starts at 22
	if ev := observe(key(3), vote(22, 23, 0)); ev != nil {
		t.Fatal("a first vote is evidence")
	}
	if p, votes, spans := s.Records(); p != 0 || votes != 1 || spans != 0 {
		t.Fatalf("once the window moved past the votes: %d proposals, %d votes, %d span records kept, want 0, 1, 0", p, votes, spans)
	}
}
