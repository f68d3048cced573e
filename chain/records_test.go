package chain

import (
	"encoding/binary"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// recordEngine keeps its own state in engine records: at genesis a record
// per validator, and in every block a counter and the block's own record,
// as a proof-of-stake engine keeps stakes, checkpoints and tallies.
type recordEngine struct{ anyEngine }

var (
	keyCount = common.Hash{0xc0}
	keyStake = common.Hash{0x5e}
)

func keyBlock(h uint64) common.Hash {
	var k common.Hash
	k[0] = 0xb1
	binary.BigEndian.PutUint64(k[24:], h)
	return k
}

func (recordEngine) InitGenesis(_ *Genesis, _ *Header, st *State) { st.SetRecord(keyStake, []byte{32}) }

func (recordEngine) BeginBlock(_ ChainReader, st *State, h *Header) error {
	n := binary.BigEndian.AppendUint64(nil, h.Height)
	st.SetRecord(keyCount, n)
	st.SetRecord(keyBlock(h.Height), h.Coinbase[:])
	if h.Height%3 == 0 {
		st.SetRecord(keyBlock(h.Height-1), nil) // deletions roll back too
	}
	return nil
}

func openRecordChain(t *testing.T, dir string) (*Store, *Chain) {
	t.Helper()
	s, c, err := openTestChainWith(t, dir, recordEngine{})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// TestEngineRecordsAreStateButNotAccounts: the state root commits to engine
// records; they are never accounts; reverting, reorgs and a reopen of the
// database restore them exactly.
func TestEngineRecordsAreStateButNotAccounts(t *testing.T) {
	st := NewState()
	before := st.Root()
	st.SetRecord(common.Hash{1}, []byte{1})
	if st.Root() == before {
		t.Fatal("a record did not change the state root")
	}
	if a, ok := st.Get(common.BytesToAddress(common.Hash{1}.Bytes())); ok || a.Balance.Sign() != 0 {
		t.Fatal("a record reads as an account")
	}
	mark := st.Mark()
	st.SetRecord(common.Hash{1}, []byte{2})
	st.SetRecord(common.Hash{2}, []byte{3})
	st.Set(common.Address{9}, Account{Balance: big.NewInt(5)})
	st.RevertTo(mark)
	if _, ok := st.Get(common.Address{9}); ok || string(st.Record(common.Hash{1})) != "\x01" || st.Record(common.Hash{2}) != nil {
		t.Fatal("revert did not restore the records")
	}
	st.SetRecord(common.Hash{1}, nil)
	if st.Root() != before {
		t.Fatal("deleting the only record does not give the empty root")
	}

	dir := t.TempDir()
	s, c := openRecordChain(t, dir)
	if string(c.Record(keyStake)) != "\x20" {
		t.Fatal("the engine's genesis record is missing")
	}
	rng := rand.New(rand.NewPCG(7, 7))
	var branchA []*Block
	for range 10 {
		b, err := c.BuildBlock(common.Address{2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.InsertBlock(b); err != nil {
			t.Fatal(err)
		}
		branchA = append(branchA, b)
	}
	rootA := c.StateRoot()
	// A heavier branch from block 4: the records of blocks 5-10 go back.
	fork := branchA[3]
	var branchB []*Block
	parent := fork.Header
	for i := range 8 {
		h := &Header{ParentHash: parent.Hash(), Coinbase: common.Address{byte(3 + rng.IntN(9))}, Height: parent.Height + 1, Time: parent.Time + 1,
			GasLimit: c.genesis.GasLimit, BaseFee: c.genesis.BaseFee.Big()}
		st := c.stateAt(t, fork, branchB)
		if err := (recordEngine{}).BeginBlock(c, st, h); err != nil {
			t.Fatal(err)
		}
		if err := (recordEngine{}).Finalize(c, st, h); err != nil {
			t.Fatal(err)
		}
		h.StateRoot = st.Root()
		h.TxRoot, h.ReceiptRoot = TxRoot(nil), ReceiptRoot(nil)
		b := &Block{Header: h}
		if err := c.InsertBlock(b); err != nil {
			t.Fatalf("branch B block %d: %v", i, err)
		}
		branchB = append(branchB, b)
		parent = h
	}
	if c.Head().Hash() != branchB[len(branchB)-1].Hash() {
		t.Fatal("the heavier branch did not become the head")
	}
	for h := uint64(5); h <= 10; h++ {
		want := branchB[h-5].Header.Coinbase[:]
		if (h+1)%3 == 0 { // deleted by the next block
			want = nil
		}
		if got := c.Record(keyBlock(h)); string(got) != string(want) {
			t.Fatalf("after the reorg, record of block %d is %x, want %x", h, got, want)
		}
	}
	rootB := c.StateRoot()
	if rootB == rootA || rootB != c.Head().Header.StateRoot {
		t.Fatal("state root does not follow the records through the reorg")
	}
	if err := c.VerifyReplay(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, c = openRecordChain(t, dir)
	defer s.Close()
	if c.StateRoot() != rootB || string(c.Record(keyCount)) != string(binary.BigEndian.AppendUint64(nil, 12)) {
		t.Fatal("reopening the database did not restore the records")
	}
}

// stateAt replays fork's chain and then blocks on a copy of the state, for a
// test that builds a side branch by hand.
func (c *Chain) stateAt(t *testing.T, fork *Block, blocks []*Block) *State {
	t.Helper()
	_, st := c.genesis.Block(c.engine)
	for h := uint64(1); h <= fork.Height(); h++ {
		b, err := c.BlockByHeight(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.applyBlock(st, b); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range blocks {
		if err := c.applyBlock(st, b); err != nil {
			t.Fatal(err)
		}
	}
	st.ClearJournal()
	return st
}
