package sim

import (
	"testing"
	"time"
)

func eclipseParams(groups, perGroup int) EclipseParams {
	return EclipseParams{Groups: groups, PerGroup: perGroup, HonestNew: 2000, HonestTried: 400, HonestOnline: 0.5, Repeats: 4,
		Attack: 6 * time.Hour, FeelerInterval: 2 * time.Minute, Outbound: 8, Anchors: 4, Trials: 20, Seed: 1}
}

// TestEclipseOneGroupGetsOneOutboundPeer: whatever it sends, an attacker in
// one network group gets at most one of a victim's outbound peers, since no
// two outbound peers share a group.
func TestEclipseOneGroupGetsOneOutboundPeer(t *testing.T) {
	r, err := Eclipse(eclipseParams(1, 4096))
	if err != nil {
		t.Fatal(err)
	}
	if r.Outbound.K > r.Trials {
		t.Fatalf("%d outbound connections to a one-group attacker in %d victims", r.Outbound.K, r.Trials)
	}
	if r.Eclipsed.K != 0 {
		t.Fatalf("%d victims eclipsed by one group", r.Eclipsed.K)
	}
}

// TestEclipseMoreGroupsMoreOutbound: the attacker's share grows with its
// groups, and the same seed gives the same result.
func TestEclipseMoreGroupsMoreOutbound(t *testing.T) {
	few, err := Eclipse(eclipseParams(4, 256))
	if err != nil {
		t.Fatal(err)
	}
	many, err := Eclipse(eclipseParams(2000, 1))
	if err != nil {
		t.Fatal(err)
	}
	if many.Outbound.Lo <= few.Outbound.Hi {
		t.Fatalf("outbound share: 4 groups %v, 2000 groups %v: want the second clearly above", few.Outbound, many.Outbound)
	}
	if many.WithAnchorsOutbound.K > many.Outbound.K {
		t.Fatal("anchors gave the attacker more connections")
	}
	again, _ := Eclipse(eclipseParams(2000, 1))
	if again.Outbound != many.Outbound || again.NewShare != many.NewShare {
		t.Fatal("the same seed gave another result")
	}
}

func TestEclipseParamsValidate(t *testing.T) {
	for _, edit := range []func(*EclipseParams){
		func(p *EclipseParams) { p.Groups = 0 },
		func(p *EclipseParams) { p.HonestOnline = 0 },
		func(p *EclipseParams) { p.Anchors = 9 },
		func(p *EclipseParams) { p.HonestNew, p.HonestTried = 0, 0 },
		func(p *EclipseParams) { p.FeelerInterval = 0 },
	} {
		p := eclipseParams(1, 1)
		edit(&p)
		if _, err := Eclipse(p); err == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}
