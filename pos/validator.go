package pos

import (
	"context"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

// Pool is what the validator needs from the mempool.
type Pool interface {
	Pending() []*types.Transaction
	Add(tx *types.Transaction) error
	PendingNonce(addr common.Address) uint64
}

// ValidatorConfig configures a Validator.
type ValidatorConfig struct {
	Chain  *chain.Chain // required
	Engine *Engine      // required, with a key
	Pool   Pool         // required
	Logger *slog.Logger // optional
}

// Validator proposes a block in each of its slots and casts one finality
// vote per epoch, half way through it.
type Validator struct {
	cfg  ValidatorConfig
	log  *slog.Logger
	quit chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	running  bool
	lastVote uint64 // epoch + 1 of the last vote cast
	reported map[common.Address]bool
}

// NewValidator returns a stopped validator; Start runs it.
func NewValidator(cfg ValidatorConfig) *Validator {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Validator{cfg: cfg, log: cfg.Logger, quit: make(chan struct{}), reported: make(map[common.Address]bool)}
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
	v.log.Info("Validator started", "address", v.cfg.Engine.Address())
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
		next := e.SlotTime(slot + 1)
		v.propose(slot)
		v.reportDoubleProposals()
		if within := slot % e.g.EpochLength; within >= e.g.EpochLength/2 {
			v.vote(e.Epoch(slot))
		}
		select {
		case <-v.quit:
			return
		case <-time.After(time.Until(next)):
		}
	}
}

// propose builds, signs and imports a block if slot is ours.
func (v *Validator) propose(slot uint64) {
	c, e := v.cfg.Chain, v.cfg.Engine
	head := c.Head()
	if slot == 0 || head.Header.Nonce >= slot || e.Proposer(HeadState{c}, slot) != e.Address() {
		return
	}
	b, err := c.BuildBlock(e.Address(), v.cfg.Pool.Pending())
	if err != nil {
		v.log.Debug("No block this slot", "slot", slot, "err", err)
		return
	}
	sealed, err := e.Seal(context.Background(), c, b)
	if err != nil {
		v.log.Error("Cannot sign block", "err", err)
		return
	}
	if err := c.InsertBlock(sealed); err != nil {
		v.log.Error("Own block refused", "slot", slot, "err", err)
		return
	}
	v.log.Info("Proposed block", "slot", slot, "height", sealed.Height(), "hash", sealed.Hash(), "txs", len(sealed.Txs))
}

// vote casts this validator's vote for epoch, once: source is the justified
// checkpoint of the head, target the checkpoint of epoch on the head chain.
func (v *Validator) vote(epoch uint64) {
	c, e := v.cfg.Chain, v.cfg.Engine
	v.mu.Lock()
	done := v.lastVote == epoch+1
	v.mu.Unlock()
	if done || epoch == 0 || !e.g.FinalityOn() {
		return
	}
	st := HeadState{c}
	target, ok := e.checkpoint(st, epoch)
	if !ok {
		return // no block of this epoch on our chain yet
	}
	data, err := rlp.EncodeToBytes(Vote{Source: e.justified(st), Target: Checkpoint{Epoch: epoch, Hash: target}})
	if err != nil {
		return
	}
	if err := v.submit(chain.FinalityAddress, data); err != nil {
		v.log.Warn("Vote refused by the mempool", "epoch", epoch, "err", err)
		return
	}
	v.mu.Lock()
	v.lastVote = epoch + 1
	v.mu.Unlock()
	v.log.Debug("Voted", "epoch", epoch, "target", target)
}

// reportDoubleProposals looks for two blocks of one proposer for one slot
// among the recent blocks this node stored, and sends the evidence (once per
// offender) so that the offender is slashed.
func (v *Validator) reportDoubleProposals() {
	c, e := v.cfg.Chain, v.cfg.Engine
	head := c.Head().Height()
	var headers []*chain.Header
	for height := head - min(head, 2*e.g.EpochLength); height <= head; height++ {
		hs, err := c.HeadersAt(height)
		if err != nil {
			return
		}
		headers = append(headers, hs...)
	}
	type key struct {
		slot     uint64
		proposer common.Address
	}
	seen := make(map[key]*chain.Header)
	for _, h := range headers {
		k := key{h.Nonce, h.Coinbase}
		first, dup := seen[k]
		if !dup {
			seen[k] = h
			continue
		}
		if v.reported[h.Coinbase] || e.Slashed(HeadState{c}, h.Coinbase) {
			continue
		}
		a, _ := first.MarshalBinary()
		b, _ := h.MarshalBinary()
		data, err := rlp.EncodeToBytes(Evidence{Kind: DoubleProposal, A: a, B: b})
		if err != nil {
			continue
		}
		if err := v.submit(chain.SlashingAddress, data); err != nil {
			v.log.Warn("Evidence refused by the mempool", "offender", h.Coinbase, "err", err)
			continue
		}
		v.reported[h.Coinbase] = true
		v.log.Warn("Reported a double proposal", "offender", h.Coinbase, "slot", h.Nonce)
	}
}

// submit signs a system call from the validator's account and adds it to
// the mempool, from where it spreads and gets mined.
func (v *Validator) submit(to common.Address, data []byte) error {
	e := v.cfg.Engine
	tip := e.g.BaseFee.Big()
	tx, err := types.SignNewTx(e.key, e.g.Signer(), &types.DynamicFeeTx{
		ChainID: new(big.Int).SetUint64(e.g.ChainID), Nonce: v.cfg.Pool.PendingNonce(e.Address()), GasTipCap: tip,
		GasFeeCap: new(big.Int).Add(e.g.BaseFee.Big(), tip), Gas: chain.TransferGas, To: &to, Data: data,
	})
	if err != nil {
		return err
	}
	return v.cfg.Pool.Add(tx)
}
