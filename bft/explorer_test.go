package bft

import (
	"container/heap"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// explorerTimeouts grow linearly with the round; the precommit timeout grows
// fastest, so that from some round on it outlasts the prevote timeout plus
// four message delays (see goodRound).
var explorerTimeouts = Timeouts{
	Propose: 200 * time.Millisecond, ProposeDelta: 50 * time.Millisecond,
	Prevote: 100 * time.Millisecond, PrevoteDelta: 100 * time.Millisecond,
	Precommit: 100 * time.Millisecond, PrecommitDelta: 200 * time.Millisecond,
}

// explorerDelta is the delivery bound after GST.
const explorerDelta = 100 * time.Millisecond

// maxEvents bounds a run's events: a run that needs more is not live.
const maxEvents = 500_000

// explorerHeights is how many heights every honest validator must decide.
const explorerHeights = 5

// scenario is one schedule: validators, stakes, who is Byzantine and how,
// the network, and the seed of every random choice of the run.
type scenario struct {
	seed   uint64
	stakes []int64
	honest []bool
	byz    map[int]behaviour
	net    netParams
}

func (s scenario) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: stakes %v, gst %v, drop %.2f, dup %.2f, delay<=%v", s.seed, s.stakes, s.net.gst, s.net.drop, s.net.dup, s.net.maxDelay)
	for i := range s.stakes {
		if w, ok := s.byz[i]; ok {
			fmt.Fprintf(&b, "; %d %s", i, w)
			if s.honest[i] {
				b.WriteString(" (counted honest)")
			}
		}
	}
	return b.String()
}

// byzPower is the stake of the validators not counted honest.
func (s scenario) byzPower() (byz, total int64) {
	for i, p := range s.stakes {
		total += p
		if !s.honest[i] {
			byz += p
		}
	}
	return byz, total
}

// newScenario draws a schedule. pick chooses the Byzantine validators and
// their behaviours from the stakes (it may return nil to draw again).
func newScenario(seed uint64, pick func(rng *rand.Rand, stakes []int64) map[int]behaviour) scenario {
	rng := rand.New(rand.NewPCG(seed, 0x62667421))
	for {
		n := 4 + rng.IntN(4)
		stakes := make([]int64, n)
		for i := range stakes {
			stakes[i] = 1 + rng.Int64N(10)
		}
		byz := pick(rng, stakes)
		if byz == nil {
			continue
		}
		honest := make([]bool, n)
		for i := range honest {
			_, bad := byz[i]
			honest[i] = !bad
		}
		return scenario{seed: seed, stakes: stakes, honest: honest, byz: byz, net: netParams{
			gst:      randDur(rng, 3*time.Second),
			delta:    explorerDelta,
			maxDelay: randDur(rng, 2*time.Second),
			drop:     rng.Float64() / 2,
			dup:      rng.Float64() / 5,
		}}
	}
}

var (
	allBehaviours        = []behaviour{equivocator{}, doubleVoter{}, amnesiac{}, silent{}}
	equivocateBehaviours = []behaviour{twoFaced{}, twoFaced{}, equivocator{}, doubleVoter{}, silent{}}
)

// underThird makes Byzantine a random set of validators of less than a
// third of the stake, each with a random behaviour.
func underThird(rng *rand.Rand, stakes []int64) map[int]behaviour {
	var total, byz int64
	for _, p := range stakes {
		total += p
	}
	out := map[int]behaviour{}
	for _, i := range rng.Perm(len(stakes)) {
		if rng.IntN(2) == 0 && 3*(byz+stakes[i]) < total {
			byz += stakes[i]
			out[i] = allBehaviours[rng.IntN(len(allBehaviours))]
		}
	}
	return out
}

// atLeastThird makes Byzantine validators of at least a third of the stake
// (leaving at least two honest ones), each equivocating or silent.
func atLeastThird(rng *rand.Rand, stakes []int64) map[int]behaviour {
	var total, byz int64
	for _, p := range stakes {
		total += p
	}
	out := map[int]behaviour{}
	for _, i := range rng.Perm(len(stakes)) {
		if 3*byz >= total {
			break
		}
		byz += stakes[i]
		out[i] = equivocateBehaviours[rng.IntN(len(equivocateBehaviours))]
	}
	if len(stakes)-len(out) < 2 {
		return nil
	}
	return out
}

// outcome is what a run produced.
type outcome struct {
	s         scenario
	w         *world
	finished  bool // every honest validator decided explorerHeights heights
	decisions [][]Decision
}

// run plays the scenario until every honest validator has decided
// explorerHeights heights, or until limit of simulated time.
func run(s scenario, limit time.Duration) outcome {
	w := newWorld(s)
	for !w.done() && w.now <= limit && w.events < maxEvents && w.step() {
		w.events++
	}
	return w.outcome(s)
}

// newWorld builds the scenario's validators, each at height 1, and GST.
func newWorld(s scenario) *world {
	w := &world{rng: rand.New(rand.NewPCG(s.seed, 0x6e6574)), net: s.net, target: explorerHeights}
	vals := make([]Validator, len(s.stakes))
	for i, p := range s.stakes {
		seed := make([]byte, ed25519.SeedSize)
		seed[0], seed[1] = byte(i), 0xbf
		key := ed25519.NewKeyFromSeed(seed)
		w.keys = append(w.keys, key)
		vals[i] = NewValidator(key.Public().(ed25519.PublicKey), p)
	}
	vs, err := NewValidatorSet(vals)
	if err != nil {
		panic(err)
	}
	w.vals = vs
	w.stories = map[[2]int64][2]Value{}
	for range s.stakes {
		w.groups = append(w.groups, w.rng.IntN(2))
	}
	for i := range s.stakes {
		m, err := NewMachine(Config{ChainID: testChain, Validators: vs, Self: i, Timeouts: explorerTimeouts})
		if err != nil {
			panic(err)
		}
		w.nodes = append(w.nodes, &simNode{idx: i, m: m, honest: s.honest[i], byz: s.byz[i],
			seen: map[string]bool{}, byHeight: map[Height][]Message{}, decisions: map[Height]Decision{},
			answered: map[[3]int64]bool{}})
		w.push(0, i, NewHeight{Height: 1, Value: valueOf(i, 1, 0)})
	}
	w.seq++
	heap.Push(&w.queue, simEvent{at: s.net.gst, seq: w.seq, gst: true})
	return w
}

// done says whether every honest validator decided every height.
func (w *world) done() bool {
	for _, n := range w.nodes {
		if n.honest && !n.finished {
			return false
		}
	}
	return true
}

func (w *world) outcome(s scenario) outcome {
	o := outcome{s: s, w: w, finished: w.done()}
	for _, n := range w.nodes {
		var ds []Decision
		for h := Height(1); ; h++ {
			d, ok := n.decisions[h]
			if !ok {
				break
			}
			ds = append(ds, d)
		}
		o.decisions = append(o.decisions, ds)
	}
	return o
}

// fork returns the first height at which two honest validators decided
// different values, with a description, or 0.
func (o outcome) fork() (Height, string) {
	first := map[Height]Decision{}
	who := map[Height]int{}
	for i, ds := range o.decisions {
		if !o.s.honest[i] {
			continue
		}
		for _, d := range ds {
			f, ok := first[d.Height]
			if !ok {
				first[d.Height], who[d.Height] = d, i
				continue
			}
			if f.Value != d.Value {
				return d.Height, fmt.Sprintf("height %d: validator %d decided %s in round %d, validator %d decided %s in round %d",
					d.Height, who[d.Height], f.Value, f.Round, i, d.Value, d.Round)
			}
		}
	}
	return 0, ""
}

// evidence is every double sign among the messages honest validators
// received, each verified, and the stake it convicts.
func (o outcome) evidence() ([]DuplicateVoteEvidence, int64, error) {
	var msgs []Message
	for _, n := range o.w.nodes {
		if n.honest {
			msgs = append(msgs, n.received...)
		}
	}
	ev := FindEvidence(msgs)
	for _, e := range ev {
		if err := e.Verify(testChain, o.w.vals, Ed25519Verifier{}); err != nil {
			return nil, 0, err
		}
	}
	_, power := Culprits(o.w.vals, ev)
	return ev, power, nil
}

// goodRound is the first round whose timeouts let an honest proposer's
// round succeed after GST whatever the order of delivery within delta:
// the proposal reaches everyone before their propose timeout (entries into
// the round are at most delta apart: propose > 2 delta), every honest
// prevote arrives before the prevote timeout (prevote > 3 delta), and no
// honest validator leaves the round before every lock taken in it has
// reached the others while they are still in it (precommit > prevote + 4
// delta), so that the next honest proposer's valid round covers every lock.
func goodRound(t Timeouts, delta time.Duration) Round {
	for r := Round(0); ; r++ {
		if t.For(StepPropose, r) > 2*delta && t.For(StepPrevote, r) > 3*delta &&
			t.For(StepPrecommit, r) > t.For(StepPrevote, r)+4*delta {
			return r
		}
	}
}

// roundBound is the liveness bound of height h: from the first round rmin
// that is good and that every honest validator entered after GST (two
// rounds past the highest round an honest validator was in at GST, when
// the height had started by then), the height commits by the end of the
// first stretch of rounds in which every honest validator has proposed
// once. Such a stretch holds the proposer whose valid round is the highest
// of the honest ones, which every honest lock allows (line 28), unless an
// earlier round of the stretch had a polka, which all honest validators saw
// within the round, so that the next honest proposer already succeeds.
func (o outcome) roundBound(h Height) (rmin, bound Round) {
	rmin = goodRound(explorerTimeouts, o.s.net.delta)
	for i, hr := range o.w.atGST {
		if o.s.honest[i] && Height(hr[0]) == h {
			rmin = max(rmin, Round(hr[1])+2)
		}
	}
	props := NewProposers(o.w.vals, h)
	left := map[int]bool{}
	for i, ok := range o.s.honest {
		if ok {
			left[i] = true
		}
	}
	for r := rmin; ; r++ {
		delete(left, props.Of(r))
		if len(left) == 0 {
			return rmin, r
		}
	}
}

// commitRound is one height's commit round after GST: Round is the round
// of its commit, Started whether an honest validator was already in the
// height at GST, and then AtGST the highest round one was in; Bound is the
// round roundBound allowed.
type commitRound struct {
	Round   Round
	Started bool
	AtGST   Round
	Bound   Round // roundBound's bound
}

// liveness checks that every height no honest validator had decided by GST
// committed within its bound (roundBound), and returns their commit rounds.
func (o outcome) liveness() ([]commitRound, error) {
	if !o.finished {
		return nil, fmt.Errorf("not every honest validator decided %d heights by the end of the run", explorerHeights)
	}
	if o.w.atGST == nil {
		return nil, nil // every height was decided before GST
	}
	var low Height
	for i, hr := range o.w.atGST {
		if o.s.honest[i] {
			low = max(low, Height(hr[0]))
		}
	}
	var out []commitRound
	for h := low; h <= explorerHeights; h++ {
		c := commitRound{AtGST: NoRound}
		for i, ds := range o.decisions {
			if o.s.honest[i] {
				c.Round = max(c.Round, ds[h-1].Round)
			}
		}
		for i, hr := range o.w.atGST {
			if o.s.honest[i] && Height(hr[0]) == h {
				c.Started, c.AtGST = true, max(c.AtGST, Round(hr[1]))
			}
		}
		rmin, bound := o.roundBound(h)
		c.Bound = bound
		if c.Round > bound {
			return nil, fmt.Errorf("height %d committed in round %d, beyond its bound %d (rounds from %d)", h, c.Round, bound, rmin)
		}
		out = append(out, c)
	}
	return out, nil
}
