package pos

import (
	"context"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// rpcAPI serves the engine's JSON-RPC methods: finality, validators and
// proposer duties. The rpc package finds them through RPCMethods.
type rpcAPI struct {
	e     *Engine
	Chain *chain.Chain
}

// RPCMethods returns the engine's JSON-RPC handlers, in the shape the rpc
// package registers (func(context.Context, args...) (result, error)).
func (e *Engine) RPCMethods(c *chain.Chain) map[string]any {
	a := &rpcAPI{e: e, Chain: c}
	return map[string]any{
		"chaind_finality":   a.finality,
		"chaind_validators": a.validators,
		"chaind_duties":     a.duties,
	}
}

type checkpointJSON struct {
	Epoch  hexutil.Uint64  `json:"epoch"`
	Hash   common.Hash     `json:"hash"`
	Number *hexutil.Uint64 `json:"number"`
}

type tallyJSON struct {
	Epoch hexutil.Uint64 `json:"epoch"`
	Voted *hexutil.Big   `json:"votedStake"`
}

type finalityJSON struct {
	Enabled     bool           `json:"enabled"`
	Slot        hexutil.Uint64 `json:"currentSlot"`
	Epoch       hexutil.Uint64 `json:"currentEpoch"`
	EpochLength hexutil.Uint64 `json:"epochLength"`
	Justified   checkpointJSON `json:"justified"`
	Finalized   checkpointJSON `json:"finalized"`
	// NodeFinalized is the node's own finalized block, which never moves
	// back; Finalized is the head state's, which lags it when the head's
	// branch lacks the votes that finalized it.
	NodeFinalized blockRefJSON `json:"nodeFinalized"`
	TotalStake    *hexutil.Big `json:"totalStake"`
	Tallies       []tallyJSON  `json:"tallies"` // epochs after the justified one
}

type blockRefJSON struct {
	Number hexutil.Uint64 `json:"number"`
	Hash   common.Hash    `json:"hash"`
}

func (a *rpcAPI) checkpointJSON(c Checkpoint) checkpointJSON {
	out := checkpointJSON{Epoch: hexutil.Uint64(c.Epoch), Hash: c.Hash}
	if h := a.Chain.GetHeader(c.Hash); h != nil {
		n := hexutil.Uint64(h.Height)
		out.Number = &n
	}
	return out
}

// finality shows the justified and finalized checkpoints of the head and the
// stake that voted for the epochs after the justified one.
func (a *rpcAPI) finality(context.Context) (*finalityJSON, error) {
	e := a.e
	st := HeadState{C: a.Chain}
	slot := e.SlotAt(a.Chain.Now())
	just := e.Justified(st)
	out := &finalityJSON{Enabled: Section(a.Chain.Genesis()).FinalityOn(), Slot: hexutil.Uint64(slot), Epoch: hexutil.Uint64(e.Epoch(slot)),
		EpochLength: hexutil.Uint64(e.EpochLength()), Justified: a.checkpointJSON(just), Finalized: a.checkpointJSON(e.FinalizedCheckpoint(st))}
	fin := a.Chain.Finalized()
	out.NodeFinalized = blockRefJSON{Number: hexutil.Uint64(fin.Number), Hash: fin.Hash}
	for ep := just.Epoch + 1; ep <= e.Epoch(slot) && ep <= just.Epoch+64; ep++ {
		voted, total := e.Tally(st, ep)
		out.TotalStake = (*hexutil.Big)(total)
		out.Tallies = append(out.Tallies, tallyJSON{Epoch: hexutil.Uint64(ep), Voted: (*hexutil.Big)(voted)})
	}
	if out.TotalStake == nil {
		_, total := e.Tally(st, just.Epoch)
		out.TotalStake = (*hexutil.Big)(total)
	}
	return out, nil
}

type validatorJSON struct {
	Address common.Address `json:"address"`
	Stake   *hexutil.Big   `json:"stake"`
	Active  bool           `json:"active"`
	Slashed bool           `json:"slashed"`
}

func (a *rpcAPI) validators(context.Context) ([]validatorJSON, error) {
	e := a.e
	st := HeadState{C: a.Chain}
	var out []validatorJSON
	for _, v := range e.ValidatorSet(st) {
		s := e.Stake(st, v)
		out = append(out, validatorJSON{Address: v, Stake: (*hexutil.Big)(s), Active: s.Sign() > 0, Slashed: e.Slashed(st, v)})
	}
	return out, nil
}

type dutyJSON struct {
	Slot   hexutil.Uint64 `json:"slot"`
	TimeMs int64          `json:"timeMs"`
}

// duties lists the slots left in the current epoch that address proposes
// (the next epoch's schedule is fixed only when it starts).
func (a *rpcAPI) duties(_ context.Context, addr common.Address) ([]dutyJSON, error) {
	e := a.e
	st := HeadState{C: a.Chain}
	slot := e.SlotAt(a.Chain.Now())
	end := (e.Epoch(slot) + 1) * e.EpochLength()
	out := []dutyJSON{}
	for s := slot; s < end; s++ {
		if e.Proposer(st, s) == addr {
			out = append(out, dutyJSON{Slot: hexutil.Uint64(s), TimeMs: e.SlotTime(s).UnixMilli()})
		}
	}
	return out, nil
}
