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
}

// NewValidator returns a stopped validator; Start runs it.
func NewValidator(cfg ValidatorConfig) *Validator {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Validator{cfg: cfg, log: cfg.Logger, quit: make(chan struct{})}
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
	me := e.Address()
	to := chain.FinalityAddress
	tip := e.g.BaseFee.Big()
	tx, err := types.SignNewTx(e.key, e.g.Signer(), &types.DynamicFeeTx{
		ChainID: new(big.Int).SetUint64(e.g.ChainID), Nonce: v.cfg.Pool.PendingNonce(me), GasTipCap: tip,
		GasFeeCap: new(big.Int).Add(e.g.BaseFee.Big(), tip), Gas: chain.TransferGas, To: &to, Data: data,
	})
	if err != nil {
		v.log.Error("Cannot sign vote", "err", err)
		return
	}
	if err := v.cfg.Pool.Add(tx); err != nil {
		v.log.Warn("Vote refused by the mempool", "epoch", epoch, "err", err)
		return
	}
	v.mu.Lock()
	v.lastVote = epoch + 1
	v.mu.Unlock()
	v.log.Debug("Voted", "epoch", epoch, "target", target)
}
