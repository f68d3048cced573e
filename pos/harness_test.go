package pos

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	clocks "github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// The adversarial harness: several validators, each with its own node (a
// real chain on in-memory LevelDB), driven slot by slot on a simulated clock
// by a seeded schedule of offline validators, Byzantine behaviours,
// partitions and delayed, reordered deliveries. After every slot it checks
// the safety invariants (see invariants_test.go).

var (
	soak     = flag.Int("soak", 0, "adversarial harness: run this many schedules instead of the default")
	soakSeed = flag.Uint64("soak.seed", 1, "adversarial harness: first seed")
)

// Byzantine behaviours of a simulated validator.
const (
	bEquivocate = 1 << iota // two different blocks for its slot, to different nodes
	bDoubleVote             // a vote per view it can see: double votes across a partition
	bSurround               // a vote from genesis to the current epoch, surrounding its earlier ones
	bCensor                 // its blocks carry no one else's votes or evidence
	bWithhold               // its blocks are released some slots late
	bTwin                   // honest, but its key also votes on the other side of a partition (an operator's failover mistake)
	bAll        = bEquivocate | bDoubleVote | bSurround | bCensor | bWithhold
)

// message is a block, transaction, vote or evidence on its way to a node.
type message struct {
	at       uint64 // first slot it may be delivered
	from, to int
	block    *chain.Block
	tx       *types.Transaction
	vote     *SignedVote
	evidence *Evidence
	group    int // 1 + the partition group of a twin's copy that sent it; 0 otherwise
}

type txKey struct {
	from  common.Address
	nonce uint64
}

// simNode is one validator with its own view of the chain.
type simNode struct {
	node
	id       int
	pool     map[txKey]*types.Transaction
	orphans  []*chain.Block
	slasher  *Slasher // honest nodes: every vote they receive
	lastSrc  uint64   // highest source epoch it voted from (honest voting)
	lastTgt  uint64   // highest target epoch it voted for
	finality chain.Checkpoint
	just     Checkpoint
}

type world struct {
	t          *testing.T
	rng        *rand.Rand
	g          *chain.Genesis
	clk        *clocks.Sim
	nodes      []*simNode
	stake      []int64
	total      int64
	byz        []int
	offline    []bool
	group      []int             // partition group of each node; all 0 when healed
	healAt     uint64            // slot at which the partition heals
	splitAt    uint64            // slot of the coalition's long partition (0: none)
	twinLast   map[int][2]uint64 // a twin's copy: the source and target epochs of its last vote
	calm       bool              // the faults have ended: everyone online, no partition, missing blocks fetched
	conflicted bool              // two conflicting blocks were finalized
	seed       uint64
	queue      []message
	headers    map[common.Hash]*chain.Header // every block made, for ancestry across views
	votes      map[common.Address][]Vote     // every vote signed
	finals     []chain.Checkpoint            // every finalized block any node reported
	stats      *harnessStats
}

func newWorld(t *testing.T, seed uint64, stats *harnessStats) *world {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	n := 3 + rng.IntN(3)
	stakes := make([]int64, n)
	for i := range stakes {
		stakes[i] = 1 + rng.Int64N(10)
	}
	g := testGenesis(stakes...)
	Section(g).EpochLength = 4
	w := &world{t: t, seed: seed, rng: rng, g: g, clk: clocks.NewSim(genesisTime), stake: stakes, byz: make([]int, n), offline: make([]bool, n),
		group: make([]int, n), headers: map[common.Hash]*chain.Header{}, votes: map[common.Address][]Vote{}, twinLast: map[int][2]uint64{}, stats: stats}
	for _, s := range stakes {
		w.total += s
	}
	// Byzantine validators: none, a few, or (one schedule in four) a
	// coalition that double votes across a long partition of the honest
	// ones, the attack that breaks safety with >= 1/3 of stake, so that
	// invariant (a) has something to check. In half of those (even seeds)
	// the coalition is twins instead: each runs honestly, once on each
	// side of the partition, and no message of either copy crosses it.
	strong := rng.IntN(4) == 0
	twins := strong && seed%2 == 0
	for i := range w.byz {
		if (strong && rng.IntN(2) == 0) || rng.IntN(5) == 0 {
			w.byz[i] = 1 + rng.IntN(bAll)
			switch {
			case twins:
				w.byz[i] = bTwin
			case strong:
				w.byz[i] |= bDoubleVote
			}
		}
	}
	if strong {
		w.splitAt = 1 + uint64(rng.IntN(int(2*Section(g).EpochLength)))
	}
	genesisEngine, err := New(g, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	gb, _ := g.Block(genesisEngine)
	w.headers[gb.Hash()] = gb.Header
	for i := 0; i < n; i++ {
		nd := newNodeWith(t, g, w.clk, key(i), *harnessForkChoice)
		sl := OpenMemSlasher(nd.e)
		t.Cleanup(func() { sl.Close() })
		nd.e.Censor(w.byz[i]&bCensor != 0)
		w.nodes = append(w.nodes, &simNode{node: nd, id: i, pool: map[txKey]*types.Transaction{}, slasher: sl,
			finality: chain.Checkpoint{Hash: gb.Hash()}, just: Checkpoint{Hash: gb.Hash()}})
	}
	return w
}

// run plays slots slots, checking the invariants after each.
func (w *world) run(slots uint64) {
	for s := uint64(1); s <= slots; s++ {
		w.run1(s)
	}
	w.stats.slots += slots
}

// run1 plays slot s.
func (w *world) run1(s uint64) {
	w.clk.AdvanceTo(genesisTime.Add(time.Duration(s) * slotMs * time.Millisecond))
	w.weather()
	for _, n := range w.nodes {
		if err := n.c.UpdateHead(); err != nil {
			w.t.Fatalf("%v: node %d: update head: %v", w, n.id, err)
		}
	}
	w.deliver(s)
	w.propose(s)
	if s%Section(w.g).EpochLength == Section(w.g).EpochLength/2 {
		w.vote(s)
		w.twinVotes(w.nodes[0].e.Epoch(s))
	}
	w.deliver(s)
	if w.calm {
		w.fetchParents()
	}
	w.check()
}

// fetchParents: once the faults have ended, a node fetches the missing
// ancestors of the blocks it holds as orphans from any node that has them,
// as a node syncs from its peers. (During the faults a block reaches only
// the nodes its author sends it to: an equivocator's twin, sent to half of
// the nodes, would otherwise leave the other half unable to follow the
// branch built on it, forever.)
func (w *world) fetchParents() {
	for _, n := range w.nodes {
		for _, o := range slices.Clone(n.orphans) {
			var missing []*chain.Block
			for hash := o.Header.ParentHash; n.c.GetHeader(hash) == nil; {
				b := w.blockFromAnyNode(hash)
				if b == nil {
					break
				}
				missing = append(missing, b)
				hash = b.Header.ParentHash
			}
			for i := len(missing) - 1; i >= 0; i-- {
				w.insert(n, missing[i])
			}
		}
	}
}

// blockFromAnyNode is the block hash as some node stored it, nil if none.
func (w *world) blockFromAnyNode(hash common.Hash) *chain.Block {
	for _, m := range w.nodes {
		if b, err := m.c.BlockByHash(hash); err == nil {
			return b
		}
	}
	return nil
}

// weather changes who is offline and how the network is split, until the
// faults end (calm).
func (w *world) weather() {
	if w.calm {
		return
	}
	if w.rng.IntN(6) == 0 {
		for i := range w.offline {
			w.offline[i] = w.rng.IntN(6) == 0
		}
	}
	now := w.nodes[0].e.SlotAt(w.clk.Now())
	switch {
	case now == w.splitAt: // the coalition's partition: two to four epochs
		for i := range w.group {
			w.group[i] = w.rng.IntN(2)
		}
		w.healAt = now + (2+uint64(w.rng.IntN(3)))*Section(w.g).EpochLength
		w.stats.partitions++
	case now >= w.healAt:
		clear(w.group)
		if w.rng.IntN(10) == 0 { // split in two, for up to four epochs
			for i := range w.group {
				w.group[i] = w.rng.IntN(2)
			}
			w.healAt = now + 1 + uint64(w.rng.IntN(int(4*Section(w.g).EpochLength)))
			w.stats.partitions++
		}
	}
}

// send queues m (its block, transaction, vote or evidence) from node from
// to every other node, each with its own delay.
func (w *world) send(from int, m message, minDelay uint64, to func(int) bool) {
	w.sendFrom(from, 0, m, minDelay, to)
}

// sendFrom is send, for a twin's copy in partition group group-1 if group
// is not 0.
func (w *world) sendFrom(from, group int, m message, minDelay uint64, to func(int) bool) {
	now := w.nodes[0].e.SlotAt(w.clk.Now())
	m.from, m.group = from, group
	for i := range w.nodes {
		if i == from || (to != nil && !to(i)) {
			continue
		}
		delay := minDelay
		if w.rng.IntN(3) == 0 {
			delay += uint64(w.rng.IntN(4))
		}
		m.at, m.to = now+delay, i
		w.queue = append(w.queue, m)
	}
}

// deliver hands over, in random order, every due message whose path is not
// cut by the partition.
func (w *world) deliver(now uint64) {
	var due, later []message
	for _, m := range w.queue {
		if m.at <= now && w.group[m.to] == w.groupOfSender(m) {
			due = append(due, m)
		} else {
			later = append(later, m)
		}
	}
	w.queue = later
	w.rng.Shuffle(len(due), func(i, j int) { due[i], due[j] = due[j], due[i] })
	for _, m := range due {
		n := w.nodes[m.to]
		switch {
		case m.tx != nil:
			n.addTx(m.tx)
		case m.vote != nil:
			w.receiveVote(n, *m.vote)
		case m.evidence != nil:
			if _, err := (Messages{Chain: n.c, Engine: n.e}).Evidence(*m.evidence); err != nil {
				w.t.Fatalf("%v: node %d: evidence refused: %v", w, n.id, err)
			}
		default:
			w.insert(n, m.block)
		}
	}
}

// groupOfSender: a message is held back by a partition when its receiver is
// in another group than its sender. The partition is the adversary's
// doing: Byzantine senders reach both sides, except twins, whose copies
// are each on their own side.
func (w *world) groupOfSender(m message) int {
	if m.group != 0 {
		return m.group - 1
	}
	if w.byz[m.from] == 0 || w.byz[m.from] == bTwin {
		return w.group[m.from]
	}
	return w.group[m.to]
}

// insert imports b into n, keeping orphans until their parent arrives.
func (w *world) insert(n *simNode, b *chain.Block) {
	w.observeBlock(n, b)
	err := n.c.InsertBlock(b)
	switch {
	case err == nil:
		for _, tx := range b.Txs {
			n.addTx(tx)
		}
		w.retryOrphans(n)
	case errors.Is(err, chain.ErrKnownBlock):
	case errors.Is(err, chain.ErrUnknownParent):
		if len(n.orphans) < 256 {
			n.orphans = append(n.orphans, b)
		}
	case errors.Is(err, chain.ErrRevertsFinalized):
		w.stats.refusedFinal++
	case chain.IsRuleError(err):
		w.stats.refusedOther++
	default:
		w.t.Fatalf("%v: node %d: block %d: %v", w, n.id, b.Height(), err)
	}
}

func (w *world) retryOrphans(n *simNode) {
	for progress := true; progress; {
		progress = false
		for i, o := range n.orphans {
			if n.c.GetHeader(o.Header.ParentHash) != nil {
				n.orphans = slices.Delete(n.orphans, i, i+1)
				w.insert(n, o)
				progress = true
				break
			}
		}
	}
}

// addTx puts a transaction into n's pool (the first transaction per
// sender and nonce wins, as in the mempool).
func (n *simNode) addTx(tx *types.Transaction) {
	from, err := n.e.g.Sender(tx)
	if err != nil {
		return
	}
	k := txKey{from, tx.Nonce()}
	if _, ok := n.pool[k]; !ok {
		n.pool[k] = tx
	}
}

// pending lists n's pool transactions that may follow the head state's
// nonces, senders in address order; only own ones if censor.
func (n *simNode) pending(censor bool) []*types.Transaction {
	var senders []common.Address
	seen := map[common.Address]bool{}
	for k := range n.pool {
		if !seen[k.from] && (!censor || k.from == n.e.Address()) {
			seen[k.from] = true
			senders = append(senders, k.from)
		}
	}
	sort.Slice(senders, func(i, j int) bool { return senders[i].Cmp(senders[j]) < 0 })
	var out []*types.Transaction
	for _, s := range senders {
		for nonce := n.c.Account(s).Nonce; ; nonce++ {
			tx, ok := n.pool[txKey{s, nonce}]
			if !ok {
				break
			}
			out = append(out, tx)
		}
	}
	return out
}

// nextNonce is the nonce for n's next transaction on view v's head.
func (w *world) nextNonce(signer int, v *simNode) uint64 {
	nonce := v.c.Account(addr(signer)).Nonce
	for {
		if _, ok := v.pool[txKey{addr(signer), nonce}]; !ok {
			return nonce
		}
		nonce++
	}
}

// propose has every online validator that its own view draws for slot s
// build a block; Byzantine ones equivocate, censor or withhold. A validator
// its view has slashed keeps its slots to the end of the epoch but may not
// fill them.
func (w *world) propose(s uint64) {
	for i, n := range w.nodes {
		if w.offline[i] || n.c.Head().Header.Nonce >= s || n.e.Proposer(HeadState{n.c}, s) != addr(i) || n.e.Slashed(HeadState{n.c}, addr(i)) {
			continue
		}
		byz := w.byz[i]
		a := w.build(n, n.pending(byz&bCensor != 0))
		var b *chain.Block
		if byz&bEquivocate != 0 && w.rng.IntN(2) == 0 {
			extra := callTx(w.t, w.g, key(i), w.nextNonce(i, n), addr(i), big.NewInt(1), nil)
			b = w.build(n, append(n.pending(byz&bCensor != 0), extra))
		}
		w.insert(n, a)
		delay := uint64(0)
		if byz&bWithhold != 0 && w.rng.IntN(2) == 0 {
			delay = 2 + uint64(w.rng.IntN(5))
			w.stats.withheld++
		}
		if b != nil && b.Hash() != a.Hash() {
			w.stats.equivocations++
			half := w.rng.IntN(2)
			w.send(i, message{block: a}, delay, func(j int) bool { return j%2 == half })
			w.send(i, message{block: b}, delay, func(j int) bool { return j%2 != half })
			continue
		}
		w.send(i, message{block: a}, delay, nil)
	}
}

func (w *world) build(n *simNode, txs []*types.Transaction) *chain.Block {
	b, err := n.c.BuildBlock(n.e.Address(), txs)
	if err != nil {
		w.t.Fatalf("%v: node %d: build: %v", w, n.id, err)
	}
	sealed, err := n.e.Seal(context.Background(), n.c, b)
	if err != nil {
		w.t.Fatal(err)
	}
	w.headers[sealed.Hash()] = sealed.Header
	return sealed
}

func (w *world) String() string {
	return fmt.Sprintf("seed %d: %d validators, stakes %v, byzantine %v", w.seed, len(w.nodes), w.stake, w.byz)
}
