package chain

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestGenesisEngineSectionRoundTrip: a genesis file keeps its engine's
// parameters in the section named by its consensus, decoded into the
// registered engine's type, and writes back the same bytes.
func TestGenesisEngineSectionRoundTrip(t *testing.T) {
	g := &Genesis{ChainID: 9, Consensus: anyConsensus, Engine: &anyConfig{Seed: 42}, Timestamp: 5}
	g.FillDefaults()
	data, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"any":{"seed":42}`) {
		t.Fatalf("the section is not under the consensus name: %s", data)
	}
	back, err := ParseGenesis(data)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := back.Engine.(*anyConfig); !ok || c.Seed != 42 {
		t.Fatalf("section decoded as %#v", back.Engine)
	}
	again, _ := json.Marshal(back)
	if string(again) != string(data) {
		t.Fatalf("round trip changed the file:\n%s\n%s", data, again)
	}
	if g.configHash() != back.configHash() {
		t.Fatal("round trip changed the genesis hash")
	}
}

// TestGenesisRefusesMisplacedParameters: a parameter among the common fields
// (the flat layout of genesis files before engine sections) is refused with
// ErrFlatGenesis, naming the section to move it to; a typo inside the
// section, a section of another engine and an unregistered consensus are
// refused too.
func TestGenesisRefusesMisplacedParameters(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"flat", `{"chain_id":9,"consensus":"any","seed":1}`, `"any": {...}`},
		{"typo in section", `{"chain_id":9,"consensus":"any","any":{"sed":1}}`, `unknown field "sed"`},
		{"typo beside section", `{"chain_id":9,"consensus":"any","any":{},"sed":1}`, `unknown field "sed"`},
		{"another engine's section", `{"chain_id":9,"consensus":"any","any":{},"chaintest":{}}`, `a "chaintest" section in a genesis of consensus "any"`}, // chaintest registers its section in this test binary
		{"unregistered", `{"chain_id":9,"consensus":"nosuch"}`, `consensus "nosuch": want one of`},
	} {
		_, err := ParseGenesis([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
		if tc.name == "flat" && !errors.Is(err, ErrFlatGenesis) {
			t.Errorf("flat: %v is not ErrFlatGenesis", err)
		}
	}
}

// TestGenesisSectionOfItsOwnEngine: Validate refuses a section whose type
// is not the registered one of the genesis's consensus.
func TestGenesisSectionOfItsOwnEngine(t *testing.T) {
	g := &Genesis{ChainID: 9, Consensus: anyConsensus, Engine: otherConfig{}}
	g.FillDefaults()
	if err := g.Validate(); err == nil || !strings.Contains(err.Error(), "not \"any\"'s") {
		t.Fatalf("accepted a section of another type: %v", err)
	}
}

type otherConfig struct{}

func (otherConfig) FillDefaults(*Genesis)    {}
func (otherConfig) Validate(*Genesis) error  { return nil }
func (otherConfig) Describe() map[string]any { return nil }
