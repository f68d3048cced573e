package engines

import (
	"crypto/ecdsa"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/crypto"
)

// TestTableIsTheRegistry: the engines whose genesis sections chain can
// decode are exactly the table's, so an engine is added in one place (its
// entry, and its package registering its section) and no genesis names an
// engine the node cannot build.
func TestTableIsTheRegistry(t *testing.T) {
	names := slices.Sorted(slices.Values(Names()))
	if got := chain.EngineConfigs(); !slices.Equal(got, names) {
		t.Fatalf("chain decodes the sections of %v, the table has %v", got, names)
	}
	for _, e := range All() {
		if e.Section == nil || e.New == nil || e.Summary == "" {
			t.Errorf("%s: an entry without a section builder, a constructor or a summary", e.Name)
		}
	}
	if e, err := Lookup(""); err != nil || e.Name != chain.ConsensusPoW {
		t.Fatalf("default engine %q, %v; want pow (genesis files without a consensus are pow)", e.Name, err)
	}
	if _, err := Lookup("nosuch"); err == nil || !strings.Contains(err.Error(), strings.Join(Names(), " ")) {
		t.Fatalf("an unknown engine: %v", err)
	}
}

// TestEveryEngineRoundTrips: for every engine of the table, the genesis
// built from a Spec writes and reads back to the same file (the same
// genesis hash), and the engine the table makes for a node builds its
// genesis block, the same from the file read back.
func TestEveryEngineRoundTrips(t *testing.T) {
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("engines test validator")))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range All() {
		spec := Spec{Consensus: e.Name, ChainID: 5, Timestamp: 1_700_000_000_000, BlockTime: 2 * time.Second,
			Alloc: chain.Alloc{{1}: {Balance: chain.NewBigInt(Ether(5))}}}
		opts := Options{Clock: clock.NewSim(time.UnixMilli(1_700_000_000_000))}
		switch e.Producers {
		case Miners:
			spec.Difficulty = DifficultyFor(1000, spec.BlockTime)
		case Validators:
			spec.Validators = []Validator{{Address: crypto.PubkeyToAddress(key.PublicKey), Stake: Ether(32), Balance: Ether(1)}}
			opts.Keys = []*ecdsa.PrivateKey{key}
		}
		g, err := Genesis(spec)
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		data, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		back, err := chain.ParseGenesis(data)
		if err != nil {
			t.Fatalf("%s: %v\n%s", e.Name, err, data)
		}
		if again, _ := json.Marshal(back); string(again) != string(data) {
			t.Fatalf("%s: the genesis file changed on a round trip:\n%s\n%s", e.Name, data, again)
		}
		engine, err := e.New(g, opts)
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		a, _ := g.Block(engine)
		b, _ := back.Block(engine)
		if a.Hash() != b.Hash() {
			t.Fatalf("%s: genesis block %s, read back %s", e.Name, a.Hash(), b.Hash())
		}
	}
}

// TestSpecFieldsOfAnotherEngineRefused: a Spec with a field its engine
// has no use for is refused instead of silently dropped.
func TestSpecFieldsOfAnotherEngineRefused(t *testing.T) {
	for _, s := range []Spec{
		{Consensus: chain.ConsensusPoW, ChainID: 1, Difficulty: DifficultyFor(1, time.Second), EpochLength: 4},
		{Consensus: chain.ConsensusPoW, ChainID: 1, Difficulty: DifficultyFor(1, time.Second), Validators: []Validator{{Stake: Ether(1)}}},
		{Consensus: chain.ConsensusPoS, ChainID: 1, Validators: []Validator{{Stake: Ether(1)}}, Difficulty: DifficultyFor(1, time.Second)},
		{Consensus: chain.ConsensusPoS, ChainID: 1}, // no validators
		{Consensus: "nosuch", ChainID: 1},
	} {
		if _, err := Genesis(s); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}
