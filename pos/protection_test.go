package pos

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaind/chaind/chain"
	clocks "github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

func openProtection(t *testing.T, dir string) *Protection {
	t.Helper()
	p, err := OpenProtection(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProtectionRefusesSlashableMessages: per key, one block per slot and
// never an older slot, no double or surround vote, a repeat of the very
// message allowed; the records survive closing and reopening, and a second
// process cannot open the database while one has it.
func TestProtectionRefusesSlashableMessages(t *testing.T) {
	dir := t.TempDir()
	p := openProtection(t, dir)
	a, b := []byte{2, 1}, []byte{3, 2}
	ok := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	refused := func(err error) {
		t.Helper()
		if !errors.Is(err, ErrWouldSlash) {
			t.Fatalf("got %v, want a refusal", err)
		}
	}
	ok(p.Bind(common.Hash{1}))
	ok(p.SignBlock(a, 10, common.Hash{0xa}))
	ok(p.SignBlock(a, 10, common.Hash{0xa})) // a repeat
	refused(p.SignBlock(a, 10, common.Hash{0xb}))
	refused(p.SignBlock(a, 9, common.Hash{0xc}))
	ok(p.SignBlock(b, 10, common.Hash{0xb})) // another key
	ok(p.SignVote(a, 2, 5, common.Hash{0x25}))
	ok(p.SignVote(a, 2, 5, common.Hash{0x25}))   // a repeat
	refused(p.SignVote(a, 2, 5, common.Hash{7})) // double
	refused(p.SignVote(a, 1, 6, common.Hash{8})) // surrounds (2, 5)
	refused(p.SignVote(a, 3, 4, common.Hash{9})) // surrounded by (2, 5)
	refused(p.SignVote(a, 7, 6, common.Hash{9})) // source after target
	ok(p.SignVote(a, 3, 6, common.Hash{0x36}))
	if _, err := OpenProtection(dir); err == nil {
		t.Fatal("a second process opened the database in use")
	}
	ok(p.Close())
	p = openProtection(t, dir)
	defer p.Close()
	refused(p.SignBlock(a, 10, common.Hash{0xd}))
	refused(p.SignVote(a, 3, 6, common.Hash{0xe}))
	ok(p.SignVote(a, 3, 6, common.Hash{0x36}))
	if err := p.Bind(common.Hash{2}); err == nil {
		t.Fatal("a database of one chain was bound to another")
	}
}

// TestInterchangeRoundTrip: an export imported into a new database exports
// the same file; an import merges by maximum, takes all or nothing, and
// refuses another chain's file.
func TestInterchangeRoundTrip(t *testing.T) {
	p := OpenMemProtection()
	defer p.Close()
	k0, k1 := crypto.CompressPubkey(&key(0).PublicKey), crypto.CompressPubkey(&key(1).PublicKey)
	for _, err := range []error{
		p.Bind(common.Hash{1}), p.SignBlock(k0, 7, common.Hash{7}), p.SignVote(k0, 1, 2, common.Hash{0x12}), p.SignVote(k1, 0, 1, common.Hash{1}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var first bytes.Buffer
	if err := p.Export(&first); err != nil {
		t.Fatal(err)
	}
	q := OpenMemProtection()
	defer q.Close()
	rep, err := q.Import(bytes.NewReader(first.Bytes()))
	if err != nil || rep.Keys != 2 || len(rep.Foreign) != 0 {
		t.Fatalf("import: %+v, %v", rep, err)
	}
	var second bytes.Buffer
	if err := q.Export(&second); err != nil {
		t.Fatal(err)
	}
	if first.String() != second.String() {
		t.Fatalf("round trip changed the file:\n%s\n%s", first.String(), second.String())
	}
	if err := q.SignVote(k0, 1, 2, common.Hash{0xff}); !errors.Is(err, ErrWouldSlash) {
		t.Fatalf("after import, a double vote: %v", err)
	}
	if err := q.SignVote(k0, 1, 2, common.Hash{0x12}); err != nil {
		t.Fatalf("after import, the same vote again: %v", err)
	}

	// Merging: the file's highs and the database's, whichever is higher.
	var in Interchange
	if err := json.Unmarshal(first.Bytes(), &in); err != nil {
		t.Fatal(err)
	}
	i0 := 0
	if in.Data[0].Pubkey != hexPub(k0) {
		i0 = 1
	}
	in.Data[i0].SignedBlocks = []InterchangeBlock{{Slot: "3"}}
	in.Data[i0].SignedAttestations = []InterchangeAttestation{{SourceEpoch: "4", TargetEpoch: "5"}}
	data, _ := json.Marshal(in)
	if _, err := q.Import(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := q.SignBlock(k0, 7, common.Hash{8}); !errors.Is(err, ErrWouldSlash) {
		t.Fatal("an import of a lower slot forgot the higher one")
	}
	if err := q.SignVote(k0, 3, 6, common.Hash{1}); !errors.Is(err, ErrWouldSlash) {
		t.Fatal("an import of a higher source was not kept")
	}

	// All or nothing, and never another chain's.
	for name, edit := range map[string]func(*Interchange){
		"another chain": func(x *Interchange) { x.Metadata.GenesisValidatorsRoot = common.Hash{2}.Hex() },
		"old version":   func(x *Interchange) { x.Metadata.Version = "4" },
		"bad slot":      func(x *Interchange) { x.Data[1].SignedBlocks = []InterchangeBlock{{Slot: "-1"}} },
		"bad pubkey":    func(x *Interchange) { x.Data[1].Pubkey = "0xzz" },
		"source>target": func(x *Interchange) {
			x.Data[1].SignedAttestations = []InterchangeAttestation{{SourceEpoch: "9", TargetEpoch: "8"}}
		},
		"bad root":        func(x *Interchange) { x.Data[1].SignedAttestations[0].SigningRoot = "0x12" },
		"missing genesis": func(x *Interchange) { x.Metadata.GenesisValidatorsRoot = "" },
	} {
		var x Interchange
		_ = json.Unmarshal(first.Bytes(), &x)
		x.Data[i0].SignedBlocks = []InterchangeBlock{{Slot: "100"}} // would be recorded if the import half-happened
		edit(&x)
		data, _ := json.Marshal(x)
		if _, err := q.Import(bytes.NewReader(data)); err == nil {
			t.Fatalf("%s: imported", name)
		}
		if err := q.SignBlock(k0, 50, common.Hash{0x50}); err != nil {
			t.Fatalf("%s: a refused import changed the database: %v", name, err)
		}
	}
}

// TestImportEIP3076Example imports the example file of EIP-3076
// (testdata/eip3076-example.json, its text unchanged). Its key is a 48-byte
// BLS key, which no chaind validator has: the import keeps its record
// (an export returns it) and names it in the report. The conditions of the
// EIP hold afterwards: no block at or below the highest slot but the very
// one with the recorded root, no vote from a lower source or for a target
// at or below the highest.
func TestImportEIP3076Example(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "eip3076-example.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := OpenMemProtection()
	defer p.Close()
	rep, err := p.Import(f)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Keys != 1 || len(rep.Foreign) != 1 || !strings.Contains(rep.Foreign[0], "48-byte key, not a secp256k1 public key") {
		t.Fatalf("report %+v", rep)
	}
	t.Logf("import report: %v", rep.Foreign[0])
	if g, ok, err := p.Genesis(); err != nil || !ok || g != common.HexToHash("0x04700007fabc8282644aed6d1c7c9e21d38a03a0c4ba193f3afe428824b3a673") {
		t.Fatalf("bound to %s, %v, %v", g.Hex(), ok, err)
	}
	pub := common.FromHex("0xb845089a1457f811bfc000588fbb4e713669be8ce060ea6be3c6ece09afc3794106c91ca73acda5e5457122d58723bed")
	root := common.HexToHash("0x4ff6f743a43f3b4f95350831aeaf0a122a1a392922c45d804280284a69eb850b")
	for _, c := range []struct {
		name string
		err  error
		ok   bool
	}{
		{"the recorded block again", p.SignBlock(pub, 81952, root), true},
		{"another block at the highest slot", p.SignBlock(pub, 81952, common.Hash{1}), false},
		{"a block below it", p.SignBlock(pub, 81951, common.Hash{}), false},
		{"a vote from a lower source", p.SignVote(pub, 2289, 3009, common.Hash{1}), false},
		{"a vote for the highest target", p.SignVote(pub, 2290, 3008, common.Hash{1}), false},
		{"a vote for a target below it", p.SignVote(pub, 2290, 3007, common.Hash{1}), false},
		{"the next vote", p.SignVote(pub, 2290, 3009, common.Hash{2}), true},
	} {
		if (c.err == nil) != c.ok {
			t.Fatalf("%s: %v", c.name, c.err)
		}
	}
	var out bytes.Buffer
	if err := p.Export(&out); err != nil {
		t.Fatal(err)
	}
	var x Interchange
	if err := json.Unmarshal(out.Bytes(), &x); err != nil || len(x.Data) != 1 || x.Data[0].Pubkey != hexPub(pub) ||
		x.Data[0].SignedBlocks[0].Slot != "81952" || x.Data[0].SignedAttestations[0].TargetEpoch != "3009" {
		t.Fatalf("export after import: %s (%v)", out.String(), err)
	}
}

func hexPub(b []byte) string { return "0x" + common.Bytes2Hex(b) }

// TestOldVoteFileMigrated: the single-key vote record of earlier versions
// is imported into the database as the key's votes and removed; an
// unreadable one is refused.
func TestOldVoteFileMigrated(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "validator-votes.json")
	if err := os.WriteFile(old, []byte(`{"source":2,"target":4}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p := OpenMemProtection()
	defer p.Close()
	pub := crypto.CompressPubkey(&key(0).PublicKey)
	if err := p.MigrateVoteFile(old, pub); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the old file is still there")
	}
	if err := p.SignVote(pub, 2, 4, common.Hash{1}); !errors.Is(err, ErrWouldSlash) {
		t.Fatalf("the migrated target was not kept: %v", err)
	}
	if err := p.SignVote(pub, 1, 5, common.Hash{1}); !errors.Is(err, ErrWouldSlash) {
		t.Fatalf("the migrated source was not kept: %v", err)
	}
	if err := p.MigrateVoteFile(old, pub); err != nil {
		t.Fatalf("no old file is nothing to migrate: %v", err)
	}
	if err := os.WriteFile(old, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.MigrateVoteFile(old, pub); err == nil || !strings.Contains(err.Error(), "unreadable") {
		t.Fatalf("an unreadable old file: %v", err)
	}
}

// signedLog collects every block and vote a node's validator made.
type signedLog struct {
	blocks []*chain.Header
	votes  [][]byte // encoded signed votes
}

// watch logs what the validator of net's node origin makes.
func (l *signedLog) watch(net *validatorNet, origin int) {
	net.nodes[origin].c.Subscribe(func(ev chain.HeadEvent) {
		for _, b := range ev.Added {
			l.blocks = append(l.blocks, b.Header)
		}
	})
	net.sent = func(from int, m netMsg) {
		if from == origin && m.code == VoteCode {
			l.votes = append(l.votes, m.payload)
		}
	}
}

// slashable lists the pairs among l's messages that the engine's own
// evidence rules would slash.
func (l *signedLog) slashable(t *testing.T, e *Engine) []string {
	var out []string
	for i, a := range l.blocks {
		for _, b := range l.blocks[i+1:] {
			if a.Nonce == b.Nonce && a.Coinbase == b.Coinbase {
				if _, err := e.checkDoubleProposal(encodeHeader(t, a), encodeHeader(t, b)); err == nil {
					out = append(out, "two blocks of "+a.Coinbase.Hex()+" for one slot")
				}
			}
		}
	}
	for i, ra := range l.votes {
		for _, rb := range l.votes[i+1:] {
			if who, err := e.checkDoubleVote(ra, rb); err == nil {
				out = append(out, "conflicting votes of "+who.Hex())
			}
		}
	}
	return out
}

// TestManyKeyNodeRestartedMidEpochSignsNothingSlashable: a node serving
// four of five validators' keys runs into the middle of an epoch, after it
// proposed and voted in it, and restarts with a pool that lost its votes
// and a chain that lost its last blocks (a resync, a backup restored): only
// the protection database on disk survives. In the same slot it would
// propose again for the slot it proposed in, and vote again for the epoch it
// voted for; the database refuses what would conflict, for every key (a
// block rebuilt identically is the same message, which it may sign again).
// Across both runs no pair of its messages is evidence against it.
//
// Losing only the last block, its chain keeps the epoch's checkpoint: the
// same votes are signed again (a repeat, allowed) and it goes on to
// finalize. Losing the epoch's blocks, its chain's justified checkpoint is
// older than the source it voted from: it does not vote until its chain
// catches up, the price of a minimal protection database (a real node gets
// the lost blocks back from its peers).
func TestManyKeyNodeRestartedMidEpochSignsNothingSlashable(t *testing.T) {
	for _, tc := range []struct {
		name     string
		keep     func(e *Engine, h *chain.Header, restartSlot uint64) bool
		finalize bool
	}{
		{"lost the last block", func(_ *Engine, h *chain.Header, restartSlot uint64) bool { return h.Nonce < restartSlot }, true},
		{"lost the epoch", func(e *Engine, h *chain.Header, restartSlot uint64) bool {
			return e.Epoch(h.Nonce) < e.Epoch(restartSlot)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := testGenesis(10, 10, 10, 10, 10)
			keys := []*ecdsa.PrivateKey{key(0), key(1), key(2), key(3)}
			dir := t.TempDir()
			clk := clocks.NewSim(genesisTime)
			var log signedLog

			first := &validatorNet{t: t, clk: clk}
			prot := openProtection(t, dir)
			first.addNodeWith(newNode(t, g, clk, keys[0]), prot, 0, keys...)
			log.watch(first, 0)
			// The restart is in the first slot, from epoch 5 on, that comes
			// after the epoch's votes and in which one of its keys proposed
			// (the draw follows the genesis hash).
			epochLength := Section(g).EpochLength
			restartSlot := 5*epochLength + epochLength/2 + 1
			first.run(int(restartSlot))
			n := first.nodes[0]
			for n.c.Head().Header.Nonce != restartSlot || restartSlot%epochLength <= epochLength/2 {
				if restartSlot > 10*epochLength {
					t.Fatalf("its keys proposed in no slot after the votes of epochs 5 to 9")
				}
				first.run(1)
				restartSlot++
			}
			if n.c.Head().Header.Nonce != restartSlot {
				t.Fatalf("the first run ended at slot %d, want a block in slot %d", n.c.Head().Header.Nonce, restartSlot)
			}
			proposed := n.c.Head().Hash() // signing it again is a repeat, not evidence
			epoch := n.e.Epoch(restartSlot)
			if rec, _ := getRec(HeadState{n.c}, keyVoted(epoch, addr(0))); rec.Nonce == 0 && !n.e.pooledVote(addr(0), epoch) {
				t.Fatal("the node had not voted in the epoch of the restart")
			}
			if err := prot.Close(); err != nil {
				t.Fatal(err)
			}

			second := &validatorNet{t: t, clk: clk}
			m := newNode(t, g, clk, keys[0])
			for h := uint64(1); ; h++ {
				b, err := n.c.BlockByHeight(h)
				if err != nil {
					t.Fatal(err)
				}
				if !tc.keep(n.e, b.Header, restartSlot) {
					break
				}
				if err := m.c.InsertBlock(b); err != nil {
					t.Fatal(err)
				}
			}
			prot = openProtection(t, dir)
			defer prot.Close()
			second.addNodeWith(m, prot, 0, keys...)
			log.watch(second, 0)
			second.vals[0].Duties(restartSlot) // again, within the slot
			second.vals[0].Attest(restartSlot)
			second.gossip()
			if head := m.c.Head(); head.Header.Nonce == restartSlot && head.Hash() != proposed {
				t.Fatal("the restarted node proposed another block for the slot it had proposed in")
			}
			second.run(int(4 * Section(g).EpochLength))

			if bad := log.slashable(t, n.e); len(bad) > 0 {
				t.Fatalf("the node signed slashable messages: %v", bad)
			}
			if tc.finalize && (m.c.Head().Header.Nonce <= restartSlot || m.c.Finalized().Number <= n.c.Finalized().Number) {
				t.Fatalf("after the restart: head slot %d, finalized height %d (before: %d)", m.c.Head().Header.Nonce, m.c.Finalized().Number, n.c.Finalized().Number)
			}
		})
	}
}
