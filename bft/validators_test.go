package bft

import (
	"strings"
	"testing"
)

func namedValidator(name string, power int64) Validator {
	v := Validator{Power: power, PubKey: []byte(name)}
	copy(v.Address[:], name)
	return v
}

// TestProposerSelectionAsCometBFT replays CometBFT's TestProposerSelection1
// (types/validator_set_test.go): the same set gives the same 99 proposers.
func TestProposerSelectionAsCometBFT(t *testing.T) {
	vals, err := NewValidatorSet([]Validator{namedValidator("foo", 1000), namedValidator("bar", 300), namedValidator("baz", 330)})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"foo", "bar", "baz"}
	var got []string
	for range 99 {
		got = append(got, names[vals.Proposer()])
		vals.IncrementProposerPriority(1)
	}
	want := `foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo`
	if g := strings.Join(got, " "); g != want {
		t.Fatalf("proposers\n%s\nwant\n%s", g, want)
	}
}

// TestProposersFollowStake checks that over many rounds each validator
// proposes in proportion to its stake, within one round of it, and that a
// height's rotation is the previous height's advanced once.
func TestProposersFollowStake(t *testing.T) {
	stakes := []int64{1, 2, 3, 10, 4}
	var vs []Validator
	var total int64
	for i, p := range stakes {
		vs = append(vs, namedValidator(string(rune('a'+i)), p))
		total += p
	}
	vals, err := NewValidatorSet(vs)
	if err != nil {
		t.Fatal(err)
	}
	p := NewProposers(vals, 3)
	rounds := int(total) * 50
	count := make([]int, len(stakes))
	for r := range rounds {
		count[p.Of(Round(r))]++
	}
	for i, s := range stakes {
		want := int(s) * 50
		if count[i] < want-1 || count[i] > want+1 {
			t.Errorf("validator %d (stake %d) proposed %d of %d rounds, want %d", i, s, count[i], rounds, want)
		}
	}
	if a, b := NewProposers(vals, 2).Next().Of(5), NewProposers(vals, 3).Of(5); a != b {
		t.Errorf("height 3 round 5: %d by Next, %d from genesis", a, b)
	}
}

func TestValidatorSetRefusesBadSets(t *testing.T) {
	for name, vs := range map[string][]Validator{
		"empty":      nil,
		"zero power": {namedValidator("a", 0)},
		"same key":   {namedValidator("a", 1), namedValidator("a", 2)},
		"too much":   {namedValidator("a", MaxTotalPower), namedValidator("b", 1)},
	} {
		if _, err := NewValidatorSet(vs); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestRoundProposersAreTheHeightSetIncremented checks Of's one increment a
// round against CometBFT's definition, the height's set incremented r
// times from scratch, with priorities spread enough to be rescaled.
func TestRoundProposersAreTheHeightSetIncremented(t *testing.T) {
	vals, err := NewValidatorSet([]Validator{namedValidator("a", 1), namedValidator("b", 1000), namedValidator("c", 7), namedValidator("d", 300)})
	if err != nil {
		t.Fatal(err)
	}
	vals.vals[0].Priority = 5 * vals.total // a spread IncrementProposerPriority rescales
	p := &Proposers{height: vals}
	for r := range 200 {
		want := vals.Proposer()
		if r > 0 {
			want = vals.Copy().IncrementProposerPriority(r)
		}
		if got := p.Of(Round(r)); got != want {
			t.Fatalf("round %d: proposer %d, want %d", r, got, want)
		}
	}
}
