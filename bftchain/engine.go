package bftchain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"sync/atomic"

	"github.com/chaind/chaind/bft"
	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
)

// Engine is the chain.Engine of a BFT chain. Its blocks pay no reward; the
// proposer (Coinbase, a validator) takes the fees.
type Engine struct {
	chain.NoSystemCalls
	chainID string
	vals    *bft.ValidatorSet
	cfg     *GenesisConfig
	members map[common.Address]bool
	// deliver hands received messages (and a proposal's block) to the
	// node's producer, once there is one (Channels).
	deliver atomic.Pointer[func(bft.Message, *chain.Block)]
	// producer is the node's producer, once there is one, whose state
	// bft_status shows.
	producer atomic.Pointer[Producer]
	// chain is the producer's chain, whose head's proof is the LastCommit
	// of the block it builds (BuildConsensus).
	chain atomic.Pointer[chain.Chain]
}

var (
	_ chain.Engine        = (*Engine)(nil)
	_ chain.Finalizer     = (*Engine)(nil)
	_ chain.ProofVerifier = (*Engine)(nil)
)

// New returns the engine of genesis g, which must have a "bft" section.
func New(g *chain.Genesis) (*Engine, error) {
	cfg := Section(g)
	if cfg == nil {
		return nil, fmt.Errorf("bftchain: genesis of consensus %q has no %q section", g.Consensus, Name)
	}
	vals, err := cfg.ValidatorSet()
	if err != nil {
		return nil, fmt.Errorf("bftchain: %w", err)
	}
	e := &Engine{chainID: strconv.FormatUint(g.ChainID, 10), vals: vals, cfg: cfg, members: map[common.Address]bool{}}
	for _, v := range cfg.Validators {
		e.members[v.Address] = true
	}
	return e, nil
}

// Config is the state-machine configuration of validator self (-1: none).
func (e *Engine) Config(self int) bft.Config {
	return bft.Config{ChainID: e.chainID, Validators: e.vals.Copy(), Self: self, Timeouts: e.cfg.Timeouts()}
}

// Index is the index of addr in the validator set, or -1.
func (e *Engine) Index(addr common.Address) int {
	for i, v := range e.cfg.Validators {
		if v.Address == addr {
			return i
		}
	}
	return -1
}

// InitGenesis changes nothing: the validators and their stakes are the
// genesis section's.
func (e *Engine) InitGenesis(*chain.Genesis, *chain.Header, *chain.State) {}

// ErrNoCommit is why a header without a valid commit is refused.
var ErrNoCommit = errors.New("no valid commit")

// VerifyHeader checks that h's proposer is a validator, its engine fields
// and seal are empty, and it has a consensus body, its parent's commit
// (ApplyConsensus), from height 2 on. The seal is not the commit, whose
// precommits differ from node to node, so that a decided block hashes the
// same on every node: the commit is the block's proof (VerifyProof).
func (e *Engine) VerifyHeader(_ chain.ChainReader, h, _ *chain.Header) error {
	if err := checkFields(h); err != nil {
		return chain.NewRuleError(chain.ErrConsensus, "%v", err)
	}
	if !e.members[h.Coinbase] {
		return chain.NewRuleError(chain.ErrConsensus, "proposer %s is no validator", h.Coinbase.Hex())
	}
	return nil
}

// VerifyProof checks that proof is a commit of h (Commit).
func (e *Engine) VerifyProof(_ chain.ChainReader, h *chain.Header, proof []byte) error {
	c, err := DecodeCommit(proof)
	if err == nil {
		err = c.verify(e.chainID, e.vals, h)
	}
	if err != nil {
		return chain.NewRuleError(chain.ErrBadProof, "%v: %v", ErrNoCommit, err)
	}
	return nil
}

// checkFields checks h's engine fields and seal (empty) and that it has a
// consensus body from height 2 on.
func checkFields(h *chain.Header) error {
	if h.Bits != 0 || h.Nonce != 0 || len(h.Seal) != 0 {
		return fmt.Errorf("bits %d, nonce %d and a seal of %d bytes in a BFT header: all must be empty", h.Bits, h.Nonce, len(h.Seal))
	}
	if h.Height >= 2 && h.ConsensusRoot == (common.Hash{}) {
		return fmt.Errorf("block %d carries no commit of its parent", h.Height)
	}
	return nil
}

// checkProposed checks the fields of h, proposed by validator proposer
// (checkFields), and proposer's address as the Coinbase (it takes the
// fees).
func (e *Engine) checkProposed(h *chain.Header, proposer int) error {
	if err := checkFields(h); err != nil {
		return err
	}
	if proposer < 0 || proposer >= len(e.cfg.Validators) || e.cfg.Validators[proposer].Address != h.Coinbase {
		return fmt.Errorf("coinbase %s is not the proposer's address", h.Coinbase.Hex())
	}
	return nil
}

// Prepare empties the engine fields and the seal.
func (e *Engine) Prepare(_ chain.ChainReader, h, _ *chain.Header) error {
	h.Bits, h.Nonce, h.Seal = 0, 0, nil
	return nil
}

// Seal refuses: a BFT block is final by its commit (WithCommit), which the
// validators' votes make, not the engine.
func (e *Engine) Seal(context.Context, chain.ChainReader, *chain.Block) (*chain.Block, error) {
	return nil, errors.New("bftchain: a block is final by its commit, not sealed by the engine")
}

// WithCommit returns b with the commit of decision d as its proof; d's
// value must be b's SealHash. The header, and so the block's hash, is b's
// whichever precommits d holds.
func (e *Engine) WithCommit(b *chain.Block, d *bft.Decision) (*chain.Block, error) {
	if d.Value != bft.Value(b.Header.SealHash()) || uint64(d.Height) != b.Height() {
		return nil, fmt.Errorf("bftchain: decision %s at height %d is not block %d", d.Value, d.Height, b.Height())
	}
	c, err := commitOf(e.vals, d)
	if err != nil {
		return nil, err
	}
	committed := *b
	committed.Proof = c.Encode()
	return &committed, nil
}

// Weight is 1 a block: only committed blocks are valid, and no two commits
// for one height exist while less than 1/3 of the stake double-signs, so the
// committed chain is the only branch.
func (e *Engine) Weight(*chain.Header) *big.Int { return big.NewInt(1) }

// Finalize pays no reward.
func (e *Engine) Finalize(chain.ChainReader, *chain.State, *chain.Header) error { return nil }

// Finalized is the head: a committed block is final (zero at genesis).
func (e *Engine) Finalized(head *chain.Header, _ *chain.State) common.Hash {
	return beyondGenesis(head)
}

// Safe is the head, as Finalized.
func (e *Engine) Safe(head *chain.Header, _ *chain.State) common.Hash { return beyondGenesis(head) }

func beyondGenesis(h *chain.Header) common.Hash {
	if h.Height == 0 {
		return common.Hash{}
	}
	return h.Hash()
}
