package enginestest

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/chaind/chaind/chain"
	_ "github.com/chaind/chaind/engines" // registers the engines' sections
)

// flatKeys are the engine parameters of the flat layout, by engine: the
// genesis fields that sat beside the common ones before engine sections.
var flatKeys = map[string][]string{
	chain.ConsensusPoW: {"difficulty", "asert_half_life"},
	chain.ConsensusPoS: {"slot_time", "epoch_length", "finality", "validators", "unbond_delay", "inactivity_quotient"},
}

// Unflatten rewrites a genesis file of the flat layout into the sectioned
// one: its engine's parameters move into the section of its consensus, and
// the PoW half-life that PoS files carried (no PoS rule read it) is dropped.
func Unflatten(flat []byte) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(flat, &fields); err != nil {
		return nil, err
	}
	consensus := chain.ConsensusPoW
	if raw, ok := fields["consensus"]; ok {
		if err := json.Unmarshal(raw, &consensus); err != nil {
			return nil, err
		}
	}
	section := map[string]json.RawMessage{}
	for _, k := range flatKeys[consensus] {
		if v, ok := fields[k]; ok {
			section[k] = v
			delete(fields, k)
		}
	}
	delete(fields, "asert_half_life")
	raw, err := json.Marshal(section)
	if err != nil {
		return nil, err
	}
	fields[consensus] = raw
	return json.Marshal(fields)
}

// ReadFlat reads the flat-layout genesis file at path as today's genesis.
func ReadFlat(t testing.TB, path string) *chain.Genesis {
	t.Helper()
	flat, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := Unflatten(flat)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	g, err := chain.ParseGenesis(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return g
}

// SameGenesis fails t unless got and want have the same parameters and
// so the same genesis hash: the same JSON encoding.
func SameGenesis(t testing.TB, got, want *chain.Genesis) {
	t.Helper()
	a, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) == string(b) {
		return
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(i-80, 0)
	t.Fatalf("genesis differs from the one chaind built before engine sections at byte %d:\n got ...%s\nwant ...%s", i, a[from:min(i+80, len(a))], b[from:min(i+80, len(b))])
}
