package sim

import (
	"errors"
	"fmt"
	"math/rand"
	"net/netip"
	"time"

	"github.com/chaind/chaind/p2p/addrman"
	"github.com/chaind/chaind/stats"
)

// EclipseParams describes one eclipse experiment on the real address book
// (package p2p/addrman): a victim whose book holds honest addresses is
// flooded by an attacker, then restarts and picks its outbound peers.
type EclipseParams struct {
	// Groups and PerGroup: the attacker owns PerGroup addresses in each of
	// Groups network groups (IPv4 /16s); a botnet is Groups addresses with
	// PerGroup 1.
	Groups   int `json:"groups"`
	PerGroup int `json:"per_group"`
	// HonestNew and HonestTried are the honest addresses in the victim's
	// new and tried tables before the attack, each in a random /16;
	// HonestOnline is the chance that an honest address answers.
	HonestNew    int     `json:"honest_new"`
	HonestTried  int     `json:"honest_tried"`
	HonestOnline float64 `json:"honest_online"`
	// Repeats: the attacker sends each of its addresses this many times,
	// each time from a random group of its own (the source).
	Repeats int `json:"repeats"`
	// Attack is how long the flood lasts before the victim restarts:
	// feeler connections (one per FeelerInterval) test addresses of the
	// new table meanwhile, the only way into tried (inbound peers never
	// enter it).
	Attack         time.Duration `json:"attack_ns"`
	FeelerInterval time.Duration `json:"feeler_interval_ns"`
	// Outbound is how many outbound peers the victim dials after the
	// restart, in distinct network groups; Anchors of them are honest
	// anchors (the outbound peers of the last run), dialled first.
	Outbound int   `json:"outbound_peers"`
	Anchors  int   `json:"anchors"`
	Trials   int   `json:"trials"`
	Seed     int64 `json:"seed"`
}

// EclipseResult is what Trials runs of an EclipseParams gave.
type EclipseResult struct {
	EclipseParams
	Addresses int `json:"addresses"` // Groups*PerGroup
	// NewShare and TriedShare are the attacker's mean shares of the new
	// and tried tables at the restart.
	NewShare   float64 `json:"new_share"`
	TriedShare float64 `json:"tried_share"`
	// Outbound counts outbound connections to the attacker out of
	// Outbound*Trials, without anchors; Eclipsed the trials in which all
	// of them went to the attacker. WithAnchors* are the same when Anchors
	// honest anchors are dialled first (an eclipse is then impossible).
	Outbound            stats.Proportion `json:"outbound"`
	Eclipsed            stats.Proportion `json:"eclipsed"`
	WithAnchorsOutbound stats.Proportion `json:"with_anchors_outbound"`
}

// Validate checks the parameters.
func (p EclipseParams) Validate() error {
	switch {
	case p.Groups < 1 || p.PerGroup < 1 || p.Groups*p.PerGroup > 1<<20:
		return fmt.Errorf("eclipse: %d groups of %d addresses: want at least one, at most 2^20 in all", p.Groups, p.PerGroup)
	case p.Groups > 50_000:
		return fmt.Errorf("eclipse: %d groups: at most 50000", p.Groups)
	case p.HonestNew < 0 || p.HonestTried < 0 || p.HonestNew+p.HonestTried == 0:
		return errors.New("eclipse: the victim needs some honest addresses")
	case p.HonestOnline <= 0 || p.HonestOnline > 1:
		return fmt.Errorf("eclipse: honest online share %v not in (0, 1]", p.HonestOnline)
	case p.Repeats < 1, p.Trials < 1, p.Outbound < 1, p.FeelerInterval <= 0, p.Attack < 0:
		return errors.New("eclipse: repeats, trials, outbound and feeler interval must be positive")
	case p.Anchors < 0 || p.Anchors > p.Outbound:
		return fmt.Errorf("eclipse: %d anchors for %d outbound peers", p.Anchors, p.Outbound)
	}
	return nil
}

// ipIn returns an address of the /16 numbered g (an index into a space of
// groups that honest and attacker draws share), host h.
func ipIn(g, h int) string {
	// Groups 1.0/16 to 223.255/16, skipping 10/8 and 127/8: 56,832 groups.
	a := 1 + g/256
	if a >= 10 {
		a++
	}
	if a >= 127 {
		a++
	}
	ip := netip.AddrFrom4([4]byte{byte(a), byte(g % 256), byte(h >> 8), byte(h)})
	return netip.AddrPortFrom(ip, 30303).String()
}

const groupSpace = 56_832 - 256 // what ipIn covers below 224.0/16

// Eclipse runs the experiment.
func Eclipse(p EclipseParams) (EclipseResult, error) {
	if err := p.Validate(); err != nil {
		return EclipseResult{}, err
	}
	rng := rand.New(rand.NewSource(p.Seed))
	res := EclipseResult{EclipseParams: p, Addresses: p.Groups * p.PerGroup}
	var outK, eclipsed, anchK int
	for range p.Trials {
		t := eclipseTrial(p, rng)
		res.NewShare += t.newShare / float64(p.Trials)
		res.TriedShare += t.triedShare / float64(p.Trials)
		outK += t.attacker
		if t.attacker == p.Outbound {
			eclipsed++
		}
		anchK += t.withAnchors
	}
	res.Outbound = stats.Binomial(outK, p.Outbound*p.Trials)
	res.Eclipsed = stats.Binomial(eclipsed, p.Trials)
	res.WithAnchorsOutbound = stats.Binomial(anchK, p.Outbound*p.Trials)
	return res, nil
}

type trialResult struct {
	newShare, triedShare  float64
	attacker, withAnchors int
}

// eclipseTrial is one victim: a fresh secret key, honest addresses, the
// flood with feelers, then two restarts (without and with anchors) from the
// same book.
func eclipseTrial(p EclipseParams, rng *rand.Rand) trialResult {
	var key addrman.Key
	rng.Read(key[:])
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	book := addrman.New(addrman.Config{Key: key, Rand: rand.New(rand.NewSource(rng.Int63()))})
	// Attacker groups: a random set; honest addresses avoid them.
	attackerGroup := make(map[int]bool, p.Groups)
	groups := make([]int, 0, p.Groups)
	for len(groups) < p.Groups {
		if g := rng.Intn(groupSpace); !attackerGroup[g] {
			attackerGroup[g] = true
			groups = append(groups, g)
		}
	}
	attacker := make(map[string]bool, p.Groups*p.PerGroup)
	online := make(map[string]bool)
	honest := func() string {
		for {
			if g := rng.Intn(groupSpace); !attackerGroup[g] {
				a := ipIn(g, 1+rng.Intn(65000))
				online[a] = rng.Float64() < p.HonestOnline
				return a
			}
		}
	}
	for range p.HonestTried {
		a := honest()
		book.Add(a, honest(), now, now)
		book.Good(a, now)
	}
	for range p.HonestNew {
		book.Add(honest(), honest(), now, now)
	}
	// The flood: every attacker address, Repeats times, from its groups;
	// spread over the attack, with a feeler every FeelerInterval.
	var addrs []string
	for _, g := range groups {
		for h := range p.PerGroup {
			a := ipIn(g, 1+h)
			attacker[a] = true
			addrs = append(addrs, a)
		}
	}
	dial := func(a string, at time.Time) bool {
		if attacker[a] || online[a] {
			book.Good(a, at)
			return true
		}
		book.Attempt(a, at)
		return false
	}
	feelers := int(p.Attack / p.FeelerInterval)
	sends := len(addrs) * p.Repeats
	for f := 0; f <= feelers; f++ {
		at := now.Add(time.Duration(f) * p.FeelerInterval)
		for i := sends * f / (feelers + 1); i < sends*(f+1)/(feelers+1); i++ {
			src := ipIn(groups[rng.Intn(len(groups))], 1)
			book.Add(addrs[i%len(addrs)], src, at, at)
		}
		if f == 0 {
			continue
		}
		book.ResolveCollisions(at)
		a, ok := book.CollisionToTest()
		if !ok {
			a, ok = book.Select(true, at, nil)
		}
		if ok {
			dial(a, at)
		}
	}
	now = now.Add(p.Attack)
	var res trialResult
	res.newShare, res.triedShare = shares(book, attacker)
	// The restart: Outbound peers in distinct groups, chosen from the book.
	// With anchors, the first Anchors connections go to honest anchors and
	// the book fills the rest: the attacker gets what it got among the
	// first Outbound-Anchors connections chosen from the book.
	used := make(map[string]bool)
	var picks []bool // attacker or not, in the order connected
	for tries := 0; len(picks) < p.Outbound && tries < 10_000; tries++ {
		now = now.Add(time.Second)
		a, ok := book.Select(false, now, func(a string) bool { return used[addrman.GroupOf(a)] })
		if !ok {
			break
		}
		if dial(a, now) {
			used[addrman.GroupOf(a)] = true
			picks = append(picks, attacker[a])
		}
	}
	for i, hostile := range picks {
		if hostile {
			res.attacker++
			if i < p.Outbound-p.Anchors {
				res.withAnchors++
			}
		}
	}
	return res
}

// shares returns the attacker's shares of the new and the tried table.
func shares(book *addrman.Book, attacker map[string]bool) (newShare, triedShare float64) {
	share := func(addrs []string) float64 {
		n := 0
		for _, a := range addrs {
			if attacker[a] {
				n++
			}
		}
		if len(addrs) == 0 {
			return 0
		}
		return float64(n) / float64(len(addrs))
	}
	newAddrs, triedAddrs := book.All()
	return share(newAddrs), share(triedAddrs)
}
