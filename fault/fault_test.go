package fault

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/linkmodel"
)

// TestRegistryRoundTrips: every registered name parses to a fault of that
// name, and every fault type is registered.
func TestRegistryRoundTrips(t *testing.T) {
	for _, name := range Names() {
		f, err := Step{Do: name}.Fault()
		if err != nil || f.Name() != name {
			t.Fatalf("%q parses to %v, %v", name, f, err)
		}
	}
	for _, f := range []Fault{Partition{}, Heal{}, Kill{}, Restart{}, SetLink{}, Send{}, Stop{}} {
		if !slices.Contains(Names(), f.Name()) {
			t.Fatalf("%T (%q) is not registered", f, f.Name())
		}
	}
}

// TestUnknownFaultNamesTheKnownOnes: a step with a name nobody registered
// is refused with ErrUnknown, and the error lists every known name.
func TestUnknownFaultNamesTheKnownOnes(t *testing.T) {
	_, err := Step{Do: "parition"}.Fault()
	if !errors.Is(err, ErrUnknown) {
		t.Fatalf("error %v, want ErrUnknown", err)
	}
	for _, name := range Names() {
		if !strings.Contains(err.Error(), name) {
			t.Fatalf("error %q does not name %q", err, name)
		}
	}
}

// TestStepsDecode: a scenario file's JSON steps become their typed faults,
// with the record text the testnet and netsim write.
func TestStepsDecode(t *testing.T) {
	var steps []Step
	if err := json.Unmarshal([]byte(`[
		{"at": "15s", "do": "partition", "groups": [[0, 1], [2, 3]]},
		{"at": "20s", "do": "set-link", "from": 0, "to": 1, "latency": "400ms", "jitter": "5ms", "loss": 0.2, "bandwidth": 1000000},
		{"at": "30s", "do": "kill", "node": 2},
		{"at": "40s", "do": "send", "count": 150, "rate": 3}]`), &steps); err != nil {
		t.Fatal(err)
	}
	want := []Fault{
		Partition{Groups: [][]int{{0, 1}, {2, 3}}},
		SetLink{From: 0, To: 1, Link: linkmodel.Params{Latency: 400 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.2, Bandwidth: 1_000_000}},
		Kill{Node: 2},
		Send{Count: 150, Rate: 3},
	}
	texts := []string{"partition [[0 1] [2 3]]", "set-link 0->1 latency=400ms loss=0.200", "kill 2", "send 150 txs at 3.0/s"}
	for i, st := range steps {
		f, err := st.Fault()
		if err != nil {
			t.Fatal(err)
		}
		if f.String() != want[i].String() || f.String() != texts[i] {
			t.Fatalf("step %d: %v, want %v", i, f, texts[i])
		}
		if sl, ok := f.(SetLink); ok && sl != want[i] {
			t.Fatalf("set-link %+v, want %+v", sl, want[i])
		}
	}
}

// TestCheckRefusesWhatTheNetworkLacks: faults on nodes or links a network
// of four does not have, or with impossible values, are refused.
func TestCheckRefusesWhatTheNetworkLacks(t *testing.T) {
	for _, f := range []Fault{
		Partition{Groups: [][]int{{0, 4}}},
		Partition{Groups: [][]int{{0, 1}, {1, 2}}},
		Kill{Node: 4},
		Restart{Node: -1},
		SetLink{From: 2, To: 2},
		SetLink{From: 0, To: 1, Link: linkmodel.Params{Loss: 1.5}},
		SetLink{From: 0, To: 1, Link: linkmodel.Params{Latency: -time.Millisecond}},
		Send{Count: 0, Rate: 1},
	} {
		if err := f.Check(4); err == nil {
			t.Errorf("%v accepted on 4 nodes", f)
		}
	}
	for _, f := range []Fault{Partition{Groups: [][]int{{0, 1}, {3}}}, Heal{}, Kill{Node: 3}, SetLink{From: 3, To: 0}, Send{Count: 1, Rate: 1}, Stop{}} {
		if err := f.Check(4); err != nil {
			t.Errorf("%v refused on 4 nodes: %v", f, err)
		}
	}
}

// crashes is a target that can only kill and restart nodes; it lists what
// it was asked.
type crashes []string

func (c *crashes) Kill(n int) error    { *c = append(*c, Kill{Node: n}.String()); return nil }
func (c *crashes) Restart(n int) error { *c = append(*c, Restart{Node: n}.String()); return nil }

// TestApplyNeedsItsCapability: a fault acts through the capability it
// needs, and one applied to a target without it fails with ErrUnsupported.
func TestApplyNeedsItsCapability(t *testing.T) {
	var c crashes
	if got := Supported(&c); !slices.Equal(got, []string{"kill", "restart"}) {
		t.Fatalf("supported %v, want kill and restart", got)
	}
	if err := (Kill{Node: 1}).Apply(&c); err != nil {
		t.Fatal(err)
	}
	if err := (Restart{Node: 1}).Apply(&c); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c, crashes{"kill 1", "restart 1"}) {
		t.Fatalf("applied %v", c)
	}
	if Supports(&c, Heal{}) {
		t.Fatal("heal supported by a target without Partitioner")
	}
	if err := (Heal{}).Apply(&c); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("heal on a crash-only target: %v, want ErrUnsupported", err)
	}
}
