package chain

import (
	"context"
	"github.com/chaind/chaind/clock"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// anyEngine accepts everything; chain's own tests use it (chaintest's Engine
// cannot be imported here without a cycle).
type anyEngine struct{ NoSystemCalls }

func (anyEngine) InitGenesis(*Genesis, *Header, *State) {}
func (anyEngine) Finalize(c ChainReader, st *State, h *Header) error {
	st.Credit(h.Coinbase, c.Genesis().BlockReward.Big())
	return nil
}

func (anyEngine) VerifyHeader(ChainReader, *Header, *Header) error { return nil }
func (anyEngine) Prepare(ChainReader, *Header, *Header) error      { return nil }
func (anyEngine) Seal(_ context.Context, _ ChainReader, b *Block) (*Block, error) {
	return b, nil
}
func (anyEngine) Weight(*Header) *big.Int { return big.NewInt(1) }

// anyConsensus is the consensus of chain's own test genesis files: its
// section is an anyConfig.
const anyConsensus = "any"

func init() {
	RegisterEngineConfig(anyConsensus, func() EngineConfig { return new(anyConfig) })
}

// anyConfig is a genesis section that accepts everything.
type anyConfig struct {
	Seed uint64 `json:"seed,omitempty"`
}

func (*anyConfig) FillDefaults(*Genesis)      {}
func (*anyConfig) Validate(*Genesis) error    { return nil }
func (c *anyConfig) Describe() map[string]any { return map[string]any{"seed": c.Seed} }

func openTestChain(t testing.TB, dir string) (*Store, *Chain, error) {
	t.Helper()
	return openTestChainWith(t, dir, anyEngine{})
}

// openTestChainWith opens the test chain in dir with engine e.
func openTestChainWith(t testing.TB, dir string, e Engine) (*Store, *Chain, error) {
	t.Helper()
	g := &Genesis{ChainID: 9, Consensus: anyConsensus, Timestamp: 1,
		Alloc: Alloc{common.Address{1}: {Balance: NewBigInt(big.NewInt(1000))}}}
	g.FillDefaults()
	s, err := OpenStore(dir)
	if err != nil {
		return nil, nil, err
	}
	c, err := Open(Config{Store: s, Genesis: g, Engine: e, Clock: clock.NewSim(time.UnixMilli(1_000_000))})
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, c, nil
}

func TestOpenRefusesTamperedState(t *testing.T) {
	dir := t.TempDir()
	s, c, err := openTestChain(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.BuildBlock(common.Address{2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.InsertBlock(b); err != nil {
		t.Fatal(err)
	}
	// Someone edits the head state's root node behind the node's back: a
	// balance, say, in a one-account state.
	k := key(prefixTrieNode, b.Header.StateRoot[:])
	node, err := s.db.Get(k, nil)
	if err != nil {
		t.Fatal(err)
	}
	node[len(node)-1] ^= 1
	if err := s.db.Put(k, node, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, _, err := openTestChain(t, dir); err == nil || !strings.Contains(err.Error(), "cannot be trusted") {
		t.Fatalf("opened a database whose state does not match its head: %v", err)
	}
}

func TestOpenReportsCorruptedDatabase(t *testing.T) {
	dir := t.TempDir()
	s, _, err := openTestChain(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	manifests, _ := filepath.Glob(filepath.Join(dir, "MANIFEST-*"))
	if len(manifests) == 0 {
		t.Fatal("no MANIFEST file")
	}
	if err := os.WriteFile(manifests[0], []byte("this is not a manifest"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := openTestChain(t, dir); err == nil || !strings.Contains(err.Error(), "corrupted") {
		t.Fatalf("got %v, want a clear corruption error", err)
	}
}

// TestVerifyFindsAnAlteredStateNode: verify (VerifyReplay) reads every node
// of the head's stored state past the node cache, so a leaf changed on disk
// behind a running node's back is reported, though the node's cache still
// holds the right one.
func TestVerifyFindsAnAlteredStateNode(t *testing.T) {
	s, c, err := openTestChain(t, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var head *Block
	for i := range 20 {
		if head, err = c.BuildBlock(common.Address{2, byte(i)}, nil); err != nil {
			t.Fatal(err)
		}
		if err := c.InsertBlock(head); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.VerifyReplay(); err != nil {
		t.Fatalf("verify of an intact database: %v", err)
	}
	tr, _, err := s.stateTrieAt(head.Height())
	if err != nil {
		t.Fatal(err)
	}
	it, err := tr.NodeIterator(nil)
	if err != nil {
		t.Fatal(err)
	}
	var last common.Hash
	for it.Next(true) {
		if it.Hash() != (common.Hash{}) {
			last = it.Hash()
		}
	}
	if last == (common.Hash{}) || last == head.Header.StateRoot {
		t.Fatalf("no node below the root (last %x)", last)
	}
	k := key(prefixTrieNode, last[:])
	node, err := s.db.Get(k, nil)
	if err != nil {
		t.Fatal(err)
	}
	node[len(node)-1] ^= 1
	if err := s.db.Put(k, node, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.VerifyReplay(); err == nil || !strings.Contains(err.Error(), "cannot be trusted") {
		t.Fatalf("verify after a state node was altered: %v", err)
	}
}
