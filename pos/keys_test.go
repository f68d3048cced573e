package pos

import (
	"crypto/ecdsa"
	"testing"

	clocks "github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/mempool"
	"github.com/ethereum/go-ethereum/common"
)

// TestOneValidatorServesManyKeys: one node serving four of five equal
// validators (the fifth offline) proposes in each of its keys' slots, votes
// with each key and finalizes, since four fifths is over two thirds; serving
// three of them (three fifths) it never finalizes: every key's vote counts
// on its own.
func TestOneValidatorServesManyKeys(t *testing.T) {
	g := testGenesis(10, 10, 10, 10, 10)
	for _, served := range []int{4, 3} {
		net := &validatorNet{t: t, clk: clocks.NewSim(genesisTime)}
		var keys []*ecdsa.PrivateKey
		for i := range served {
			keys = append(keys, key(i))
		}
		net.addNode(g, 0, keys...)
		net.run(8 * int(Section(g).EpochLength))
		n := net.nodes[0]
		proposed, voted := map[common.Address]int{}, map[common.Address]bool{}
		for h := uint64(1); h <= n.c.Head().Height(); h++ {
			b, err := n.c.BlockByHeight(h)
			if err != nil {
				t.Fatal(err)
			}
			proposed[b.Header.Coinbase]++
			body, err := DecodeBody(b.Consensus)
			if err != nil {
				t.Fatal(err)
			}
			for _, sv := range body.Votes {
				voted[sv.Validator] = true
			}
		}
		for i := range 5 {
			if online := i < served; (proposed[addr(i)] > 0) != online || voted[addr(i)] != online {
				t.Fatalf("%d keys served: validator %d proposed %d blocks, voted %v", served, i, proposed[addr(i)], voted[addr(i)])
			}
		}
		if fin := n.c.Finalized(); (fin.Number > 0) != (served == 4) {
			t.Fatalf("%d of 5 equal keys served: finalized height %d", served, fin.Number)
		}
	}
}

// TestValidatorKeysAndProtection: a validator needs a key and a
// slashing-protection database, which serves any number of keys but only
// the chain it was made on.
func TestValidatorKeysAndProtection(t *testing.T) {
	g := testGenesis(10, 10)
	n := newNode(t, g, clocks.NewSim(genesisTime), nil)
	pool := mempool.New(mempool.Config{Chain: n.c})
	prot := OpenMemProtection()
	defer prot.Close()
	if _, err := NewValidator(ValidatorConfig{Chain: n.c, Engine: n.e, Pool: pool, Protection: prot}); err == nil {
		t.Fatal("a validator without a key was built")
	}
	n.e.AddKey(key(0))
	n.e.AddKey(key(1))
	if _, err := NewValidator(ValidatorConfig{Chain: n.c, Engine: n.e, Pool: pool}); err == nil {
		t.Fatal("a validator without a protection database was built")
	}
	if _, err := NewValidator(ValidatorConfig{Chain: n.c, Engine: n.e, Pool: pool, Protection: prot}); err != nil {
		t.Fatalf("two keys, one protection database: %v", err)
	}
	other := testGenesis(10, 10)
	other.Timestamp++
	m := newNode(t, other, clocks.NewSim(genesisTime), key(0))
	if _, err := NewValidator(ValidatorConfig{Chain: m.c, Engine: m.e, Pool: mempool.New(mempool.Config{Chain: m.c}), Protection: prot}); err == nil {
		t.Fatal("a protection database made on one chain served another")
	}
}

// TestOldVoteRecordsArePruned: as finality advances, the per-validator
// records of targets before the justified epoch leave the state; a second,
// different vote for such a target leaves no record and is not slashed by
// the chain itself, but the watchers' evidence slashes it.
func TestOldVoteRecordsArePruned(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	net := newValidatorNet(t, g, nil)
	net.run(10 * int(Section(g).EpochLength))
	n := net.nodes[1]
	st := HeadState{n.c}
	just, below := n.e.justified(st), prunedBelow(st)
	if below < 3 || below > just.Epoch {
		t.Fatalf("records kept from target epoch %d with epoch %d justified", below, just.Epoch)
	}
	for ep := uint64(0); ep < below; ep++ {
		for i := range 4 {
			for _, k := range []common.Hash{keyVoted(ep, addr(i)), keyVoteLink(ep, addr(i)), keySnapshot(ep, addr(i))} {
				if st.Record(k) != nil {
					t.Fatalf("epoch %d, validator %d: a record of a pruned target is still in the state", ep, i)
				}
			}
		}
	}
	voters := 0
	for i := range 4 {
		if st.Record(keyVoted(just.Epoch, addr(i))) != nil {
			voters++
		}
	}
	if voters < 3 {
		t.Fatalf("%d votes recorded for the justified epoch %d, which three of four justified", voters, just.Epoch)
	}
	old := below - 1
	late := Vote{Source: Checkpoint{Epoch: 0, Hash: n.e.genesisHash}, Target: Checkpoint{Epoch: old, Hash: common.Hash{0xba}}}
	sv := signedVote(t, g, key(0), late) // sent on the vote channel, as a Byzantine node would
	net.msgs[0] = append(net.msgs[0], netMsg{VoteCode, sv.Encode()})
	net.run(2 * int(Section(g).EpochLength))
	st = HeadState{n.c}
	if st.Record(keyVoted(old, addr(0))) != nil {
		t.Fatal("a vote for a pruned target left a record")
	}
	if !n.e.Slashed(st, addr(0)) {
		t.Fatal("the watchers did not slash a double vote for a pruned target")
	}
}
