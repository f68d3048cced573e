package pos

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Pool is what the validator needs from the mempool: the transactions to
// propose.
type Pool interface {
	Pending() []*types.Transaction
}

// ValidatorConfig configures a Validator.
type ValidatorConfig struct {
	Chain *chain.Chain // required
	// Engine is required, with at least one key: the validator serves
	// every key the engine holds (see Engine.AddKey).
	Engine *Engine
	Pool   Pool         // required
	Logger *slog.Logger // optional
	// Announce (optional) sends a block to peers that the chain does not
	// announce itself: a second block for a slot, a withheld block.
	Announce func(*chain.Block)
	// Byzantine (optional) makes the validator misbehave, for experiments.
	Byzantine Behaviour
	// Clock (optional, clock.Real) is what the loop waits on; it must agree
	// with the engine's clock.
	Clock clock.Clock
	// Protection is required: the node's slashing-protection database,
	// asked before every block and vote the validator signs for any of its
	// keys (see Protection). NewValidator binds it to the chain's genesis.
	Protection *Protection
	// Slasher (optional: one in memory) records the headers and votes the
	// node receives (see ObserveHeader, ObserveVote, ObserveBlock); the
	// caller closes it.
	Slasher *Slasher
	// Gossip (optional) sends a consensus message the validator made (a
	// vote: VoteCode; evidence: EvidenceCode) to the node's peers.
	Gossip func(code byte, payload []byte)
}

// heldBlock is a withheld block (and its equivocating twin) and the slot
// at which it is released.
type heldBlock struct {
	release uint64
	blocks  []*chain.Block
}

// recentHeights is how far below the head every slot's scan for double
// proposals looks (see reportDoubleProposals).
const recentHeights = 4

// maxObserved bounds the votes waiting for the slasher, and the double
// proposals waiting to be reported: what arrives beyond it before the next
// slot's duties is dropped.
const maxObserved = 4096

// Validator proposes a block in each slot of its keys and casts one
// vote per key and epoch, at the key's committee slot (VoteSlot). It never casts a
// slashable vote unless told to misbehave: one vote per target epoch, never
// from a source older than one it used. It reports every double proposal
// among the blocks its node stored and every double or surround vote among
// the votes its node saw in gossip or blocks, so that the offender is
// slashed. One Validator serves all of a node's keys, as a beacon node
// serves many validators: the node watches for offences once, whatever the
// number of its keys.
type Validator struct {
	cfg     ValidatorConfig
	conduct conduct // honest, or wrapped in cfg.Byzantine's behaviours
	log     *slog.Logger
	clk     clock.Clock
	quit    chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	running  bool
	keys     []*validatorKey // in the engine's order
	observed []SignedVote    // votes seen, not yet shown to the slasher
	proofs   []*Evidence     // double proposals the slasher found, not yet reported
	withheld []heldBlock
	fullScan uint64 // epoch + 1 of the last scan of the whole window for double proposals
}

// validatorKey is one key a Validator serves and what it remembers of its
// votes.
type validatorKey struct {
	key        *ecdsa.PrivateKey
	addr       common.Address
	pub        []byte // compressed public key: its name in the protection database
	lastVote   uint64 // epoch + 1 of the last vote cast
	lastSource uint64 // source epoch of its last honest vote (for ByzSurroundVote)
}

// NewValidator returns a stopped validator; Start runs it. It fails when the
// engine has no key, there is no protection database, or the database is
// another chain's.
func NewValidator(cfg ValidatorConfig) (*Validator, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	v := &Validator{cfg: cfg, conduct: cfg.Byzantine.conduct(), log: cfg.Logger, clk: clock.OrReal(cfg.Clock), quit: make(chan struct{})}
	for _, k := range cfg.Engine.keys {
		v.keys = append(v.keys, &validatorKey{key: k, addr: crypto.PubkeyToAddress(k.PublicKey), pub: crypto.CompressPubkey(&k.PublicKey)})
	}
	switch {
	case len(v.keys) == 0:
		return nil, errors.New("pos: a validator needs an engine with a key")
	case cfg.Protection == nil:
		return nil, errors.New("pos: a validator needs a slashing-protection database")
	}
	if err := cfg.Protection.Bind(cfg.Engine.genesisHash); err != nil {
		return nil, fmt.Errorf("pos: %w", err)
	}
	if v.cfg.Slasher == nil {
		v.cfg.Slasher = OpenMemSlasher(cfg.Engine)
	}
	cfg.Engine.Censor(v.conduct.censors())
	cfg.Chain.Subscribe(func(ev HeadEvent) {
		for _, b := range ev.Added {
			v.ObserveBlock(b)
		}
	})
	return v, nil
}

// ObserveHeader hands the validator's slasher the header of a block its
// node received, before the chain decides on the block (it may refuse it
// for reverting the finalized checkpoint, or wait for its parent): a double
// proposal it proves is reported at the next slot's duties.
func (v *Validator) ObserveHeader(h *chain.Header) {
	ev, err := v.cfg.Slasher.ObserveHeader(HeadState{v.cfg.Chain}, h)
	if err != nil {
		v.log.Error("Slasher failed", "err", err)
		return
	}
	if ev == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.proofs) < maxObserved {
		v.proofs = append(v.proofs, ev)
	}
}

// HeadEvent is the chain's head change.
type HeadEvent = chain.HeadEvent

// ObserveVote hands the validator's slasher a vote its node received on
// the vote channel, with a good signature, whatever its pool then makes of
// it; the slasher checks it for conflicts with the votes seen before at
// the next slot's duties (reportVotes).
func (v *Validator) ObserveVote(sv SignedVote) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.observed) < maxObserved {
		v.observed = append(v.observed, sv)
	}
}

// ObserveBlock hands the validator the consensus body of a block its node
// received or adopted, whether the chain then takes the block or not (it
// may be on a branch that reverts the finalized checkpoint): its votes go
// to the slasher (those whose signature verifies, at the next duties), and
// its evidence, if it proves an offence against a validator of the head
// state not yet slashed there, into the evidence pool, so that this
// chain's proposers include it too.
func (v *Validator) ObserveBlock(b *chain.Block) {
	body, err := DecodeBody(b.Consensus)
	if err != nil {
		return
	}
	for _, ev := range body.Evidence {
		v.report(ev)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, sv := range body.Votes {
		if len(v.observed) < maxObserved {
			v.observed = append(v.observed, sv)
		}
	}
}

// Start begins proposing and voting.
func (v *Validator) Start() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.running {
		return
	}
	v.running = true
	v.wg.Add(1)
	go v.loop()
	v.log.Info("Validator started", "address", v.keys[0].addr, "keys", len(v.keys))
}

// Close stops the validator.
func (v *Validator) Close() {
	v.mu.Lock()
	running := v.running
	v.mu.Unlock()
	if running {
		close(v.quit)
		v.wg.Wait()
	}
}

func (v *Validator) loop() {
	defer v.wg.Done()
	e := v.cfg.Engine
	for {
		now := e.now()
		slot := e.SlotAt(now)
		v.Duties(slot)
		if d := AttestTime(e, slot).Sub(now); d > 0 && !v.wait(d) {
			return
		}
		v.Attest(slot)
		if d := e.SlotTime(slot + 1).Sub(e.now()); d > 0 && !v.wait(d) {
			return
		}
	}
}

// wait waits d on the validator's clock; false if the validator was
// closed first.
func (v *Validator) wait(d time.Duration) bool {
	t := v.clk.NewTimer(d)
	select {
	case <-v.quit:
		t.Stop()
		return false
	case <-t.C():
		return true
	}
}

// AttestTime is when validators vote in slot: a third into it, once the
// slot's block has had time to arrive (as Ethereum's attesters do), so
// that a head vote can name the slot's own block.
func AttestTime(e *Engine, slot uint64) time.Time {
	return e.SlotTime(slot).Add(time.Duration(e.slotMs) * time.Millisecond / 3)
}

// Duties does the duties of the start of slot: ask the fork choice for the
// head (a proposer's boost ends with its slot), release withheld blocks,
// propose, report offences. The running validator calls it at the start of
// every slot and Attest at AttestTime; a simulation that drives its own
// clock calls them directly instead of Start.
func (v *Validator) Duties(slot uint64) {
	e := v.cfg.Engine
	if err := v.cfg.Chain.UpdateHead(); err != nil {
		v.log.Warn("Fork choice: cannot move to the chosen head", "err", err)
	}
	v.release(slot)
	v.propose(slot)
	v.reportDoubleProposals(e.Epoch(slot))
	v.reportSlasherProofs()
	v.reportVotes()
}

// Attest votes with every key whose committee slot (VoteSlot) has come, on
// the head the fork choice picks now.
func (v *Validator) Attest(slot uint64) {
	e := v.cfg.Engine
	if err := v.cfg.Chain.UpdateHead(); err != nil {
		v.log.Warn("Fork choice: cannot move to the chosen head", "err", err)
	}
	for _, k := range v.keys {
		if slot >= e.VoteSlot(k.addr, e.Epoch(slot)) {
			v.vote(k, e.Epoch(slot))
		}
	}
}

// keyOf is the served key of addr, nil if addr is not one of ours.
func (v *Validator) keyOf(addr common.Address) *validatorKey {
	for _, k := range v.keys {
		if k.addr == addr {
			return k
		}
	}
	return nil
}

// propose builds, signs and imports a block if slot is one of our keys'.
func (v *Validator) propose(slot uint64) {
	c, e := v.cfg.Chain, v.cfg.Engine
	head := c.Head()
	if slot == 0 || head.Header.Nonce >= slot {
		return
	}
	k := v.keyOf(e.Proposer(HeadState{c}, slot))
	if k == nil {
		return
	}
	b, err := c.BuildBlock(k.addr, v.cfg.Pool.Pending())
	if err != nil {
		v.log.Debug("No block this slot", "slot", slot, "err", err)
		return
	}
	if err := v.cfg.Protection.SignBlock(k.pub, slot, e.BlockSigningRoot(b.Header)); err != nil {
		v.log.Warn("Not proposing", "validator", k.addr, "slot", slot, "err", err)
		return
	}
	sealed, err := e.Seal(context.Background(), c, b)
	if err != nil {
		v.log.Error("Cannot sign block", "err", err)
		return
	}
	blocks := v.conduct.blocks(v, k, sealed)
	if hold := v.conduct.holdSlots(); hold > 0 {
		v.withheld = append(v.withheld, heldBlock{release: slot + hold, blocks: blocks})
		v.log.Warn("Byzantine: withholding block", "slot", slot, "hash", sealed.Hash())
		return
	}
	v.publish(blocks)
}

// publish imports the blocks (the chain announces the one that becomes the
// head) and announces the others, which the chain does not.
func (v *Validator) publish(blocks []*chain.Block) {
	for i, b := range blocks {
		err := v.cfg.Chain.InsertBlock(b)
		switch {
		case err != nil && !errors.Is(err, chain.ErrKnownBlock):
			v.log.Error("Own block refused", "slot", b.Header.Nonce, "err", err)
			continue
		case i == 0:
			v.log.Info("Proposed block", "slot", b.Header.Nonce, "height", b.Height(), "hash", b.Hash(), "txs", len(b.Txs))
		}
		if v.cfg.Announce != nil && v.cfg.Chain.Head().Hash() != b.Hash() {
			v.cfg.Announce(b)
		}
	}
}

// release publishes the withheld blocks that are due.
func (v *Validator) release(slot uint64) {
	var keep []heldBlock
	for _, h := range v.withheld {
		if h.release > slot {
			keep = append(keep, h)
			continue
		}
		v.log.Warn("Byzantine: releasing withheld block", "slot", h.blocks[0].Header.Nonce, "hash", h.blocks[0].Hash())
		v.publish(h.blocks)
	}
	v.withheld = keep
}

// vote casts k's vote for epoch, once: source is the justified checkpoint
// of the head, target the checkpoint of epoch on the head chain, head the
// head.
func (v *Validator) vote(k *validatorKey, epoch uint64) {
	c, e := v.cfg.Chain, v.cfg.Engine
	v.mu.Lock()
	done := k.lastVote == epoch+1
	v.mu.Unlock()
	if done || epoch == 0 || !e.cfg.FinalityOn() {
		return
	}
	st := HeadState{c}
	if v.votedBefore(st, k.addr, epoch) {
		v.mu.Lock()
		k.lastVote = epoch + 1
		v.mu.Unlock()
		return
	}
	target, ok := e.checkpoint(st, epoch)
	if !ok {
		return // no block of this epoch on our chain yet
	}
	source := e.justified(st)
	vote := Vote{Source: source, Target: Checkpoint{Epoch: epoch, Hash: target}, Head: c.Head().Hash()}
	if v.conduct.votes(v, k, epoch, vote) {
		if err := v.cfg.Protection.SignVote(k.pub, source.Epoch, epoch, e.VoteSigningRoot(vote)); err != nil {
			v.log.Info("Not voting", "validator", k.addr, "epoch", epoch, "source", source.Epoch, "err", err)
			return // it could double or surround an earlier vote, or could not be recorded
		}
		if err := v.cast(k, vote); err != nil {
			v.log.Error("Cannot sign vote", "validator", k.addr, "epoch", epoch, "err", err)
			return
		}
		k.lastSource = source.Epoch
	}
	v.mu.Lock()
	k.lastVote = epoch + 1
	v.mu.Unlock()
	v.log.Debug("Voted", "validator", k.addr, "epoch", epoch, "target", target)
}

// cast signs vote with k (slashing protection was asked) and sends it as
// the node's peers would: into the vote pool, the fork choice and the
// slasher, and out to the peers.
func (v *Validator) cast(k *validatorKey, vote Vote) error {
	c, e := v.cfg.Chain, v.cfg.Engine
	sv, err := e.SignVote(k.key, vote)
	if err != nil {
		return err
	}
	if e.addVerifiedVote(HeadState{c}, sv) {
		ObserveVotes(c.ForkChoice(), []SignedVote{sv})
	}
	v.ObserveVote(sv)
	if v.cfg.Gossip != nil {
		v.cfg.Gossip(VoteCode, sv.Encode())
	}
	return nil
}

// votedBefore reports whether addr already voted for epoch, as far as its
// node can tell after a restart: a vote recorded in the head state or
// waiting in the vote pool. (Its memory of the last vote does not survive
// a restart; the protection database refuses a second vote anyway.)
func (v *Validator) votedBefore(st HeadState, addr common.Address, epoch uint64) bool {
	if rec, _ := getRec(st, keyVoted(epoch, addr)); rec.Nonce != 0 {
		return true
	}
	return v.cfg.Engine.pooledVote(addr, epoch)
}
