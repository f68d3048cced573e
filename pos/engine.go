package pos

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// PoS rule violations.
const (
	ErrNotValidator  = chain.ErrorKind("not a validator")
	ErrWrongProposer = chain.ErrorKind("wrong proposer for the slot")
	ErrBadSlot       = chain.ErrorKind("bad slot")
	ErrBadSeal       = chain.ErrorKind("bad block signature")
	ErrBadReveal     = chain.ErrorKind("bad RANDAO reveal")
	ErrBadVote       = chain.ErrorKind("bad finality vote")
)

// sealSize: the proposer's signature over the block's signing root, then
// its RANDAO reveal (its signature over the epoch number), both in this
// chain's domains (domain.go). The seal is part of
// the block hash, so both must be canonical (low s): otherwise anyone could
// flip s and v and make a second valid block of an honest proposer.
const sealSize = 2 * crypto.SignatureLength

// Engine is the proof-of-stake engine.
type Engine struct {
	g           *chain.Genesis
	cfg         *GenesisConfig // g's "pos" section
	genesisHash common.Hash
	dom         domains // signing domains, from the chain id and genesisHash
	slotMs      uint64
	validators  []common.Address               // sorted, from genesis; later bonders are listed in the state
	stakeKeys   map[common.Address]common.Hash // keyStake of each genesis validator, computed once
	keys        []*ecdsa.PrivateKey            // the validator keys this node signs with, if any
	keyOf       map[common.Address]*ecdsa.PrivateKey
	now         func() time.Time
	draws       drawCache
	rule        string // fork choice (forkchoice.go); "" for the default
	votes       votePool
	evidence    evidencePool
	censor      atomic.Bool // Censor
}

var (
	_ chain.Engine    = (*Engine)(nil)
	_ chain.Finalizer = (*Engine)(nil)
)

// New returns the engine of a PoS genesis. key (optional) is the local
// validator's key, needed to propose (AddKey adds more); now (optional,
// clock.Real's) reads the node's clock.
func New(g *chain.Genesis, key *ecdsa.PrivateKey, now func() time.Time) (*Engine, error) {
	cfg := Section(g)
	if cfg == nil {
		return nil, fmt.Errorf("pos: genesis consensus is %q", g.Consensus)
	}
	if cfg.InactivityQuotient == 0 {
		return nil, errors.New("pos: genesis inactivity_quotient is 0 (FillDefaults sets 1024)")
	}
	if now == nil {
		now = clock.OrReal(nil).Now
	}
	e := &Engine{g: g, cfg: cfg, slotMs: uint64(cfg.SlotTime.D().Milliseconds()), keyOf: make(map[common.Address]*ecdsa.PrivateKey), now: now}
	if key != nil {
		e.AddKey(key)
	}
	e.stakeKeys = make(map[common.Address]common.Hash, len(cfg.Validators))
	for _, v := range cfg.Validators {
		e.validators = append(e.validators, v.Address)
		e.stakeKeys[v.Address] = keyStake(v.Address)
	}
	sort.Slice(e.validators, func(i, j int) bool { return bytes.Compare(e.validators[i][:], e.validators[j][:]) < 0 })
	gb, _ := g.Block(e)
	e.genesisHash = gb.Hash()
	e.dom = newDomains(g.ChainID, e.genesisHash)
	return e, nil
}

// AddKey adds a validator key the node signs with, as a beacon node serves
// many validators: Prepare and Seal sign a block with the key of its
// coinbase. It returns the key's address. Keys are added before the engine
// is used.
func (e *Engine) AddKey(key *ecdsa.PrivateKey) common.Address {
	addr := crypto.PubkeyToAddress(key.PublicKey)
	if e.keyOf[addr] == nil {
		e.keys = append(e.keys, key)
		e.keyOf[addr] = key
	}
	return addr
}

// Address is the address of the local validator's (first) key, zero
// without one.
func (e *Engine) Address() common.Address {
	if len(e.keys) == 0 {
		return common.Address{}
	}
	return crypto.PubkeyToAddress(e.keys[0].PublicKey)
}

// Epoch is the epoch of a slot.
func (e *Engine) Epoch(slot uint64) uint64 { return slot / e.cfg.EpochLength }

// SlotAt is the slot at time t (0 before genesis).
func (e *Engine) SlotAt(t time.Time) uint64 {
	ms := t.UnixMilli() - int64(e.g.Timestamp)
	if ms < 0 {
		return 0
	}
	return uint64(ms) / e.slotMs
}

// SlotTime is when slot starts.
func (e *Engine) SlotTime(slot uint64) time.Time {
	return time.UnixMilli(int64(e.g.Timestamp + slot*e.slotMs))
}

// Stake is the validator's stake in st.
func (e *Engine) Stake(st StateReader, v common.Address) *big.Int {
	k, ok := e.stakeKeys[v]
	if !ok {
		k = keyStake(v)
	}
	a, _ := getRec(st, k)
	return a.Value
}

func (e *Engine) totalStake(st StateReader) *big.Int {
	t := new(big.Int)
	for _, v := range e.ValidatorSet(st) {
		t.Add(t, e.Stake(st, v))
	}
	return t
}

// seed is the seed of epoch as st knows it: fixed by the epoch's first block,
// or the current mix while the epoch has no block yet.
func (e *Engine) seed(st StateReader, epoch uint64) common.Hash {
	if a, ok := getRec(st, keySeed); ok && a.Nonce == epoch+1 {
		return hashOf(a)
	}
	mix, _ := getRec(st, keyMix)
	return hashOf(mix)
}

// signers remembers recovered signers, as clique's signature cache does: a
// seal is checked by VerifyHeader and again by the double-proposal scan, and
// in a process that runs many nodes (the tests, simulations) by every node.
// Recovery is a pure function of (hash, signature), so a hit is exact; the
// map is cleared when full, so hostile input costs recomputation, never
// memory.
var signers = struct {
	sync.Mutex
	m map[string]common.Address
}{m: make(map[string]common.Address)}

const maxCachedSigners = 8192

func recoverSigner(hash []byte, sig []byte) (common.Address, error) {
	key := string(hash) + string(sig)
	signers.Lock()
	addr, ok := signers.m[key]
	signers.Unlock()
	if ok {
		return addr, nil
	}
	pub, err := crypto.SigToPub(hash, sig)
	if err != nil {
		return common.Address{}, err
	}
	addr = crypto.PubkeyToAddress(*pub)
	signers.Lock()
	if len(signers.m) >= maxCachedSigners {
		clear(signers.m)
	}
	signers.m[key] = addr
	signers.Unlock()
	return addr, nil
}

// VerifyHeader checks what needs no state: the slot and its time, the seal's
// shape, and that the coinbase signed it. Whether the coinbase was the slot's
// proposer needs the state: ProcessBlock checks it.
func (e *Engine) VerifyHeader(_ chain.ChainReader, h, parent *chain.Header) error {
	slot := h.Nonce
	switch {
	case h.Bits != 0:
		return chain.NewRuleError(ErrBadSlot, "pos headers carry no difficulty bits")
	case slot <= parent.Nonce:
		return chain.NewRuleError(ErrBadSlot, "slot %d not after the parent's %d", slot, parent.Nonce)
	case h.Time != e.g.Timestamp+slot*e.slotMs:
		return chain.NewRuleError(ErrBadSlot, "time %d is not the start of slot %d", h.Time, slot)
	case len(h.Seal) != sealSize:
		return chain.NewRuleError(ErrBadSeal, "seal of %d bytes, want %d", len(h.Seal), sealSize)
	}
	if !lowS(h.Seal[:crypto.SignatureLength]) || !lowS(h.Seal[crypto.SignatureLength:]) {
		return chain.NewRuleError(ErrBadSeal, "block %d: a seal signature is not canonical (high s or bad v)", h.Height)
	}
	if !e.signedByProposer(h) {
		return chain.NewRuleError(ErrBadSeal, "block %d is not signed by its proposer %s", h.Height, h.Coinbase.Hex())
	}
	return nil
}

// signedByProposer reports whether the seal's signature over h's signing
// root (its seal hash and slot, in this chain's proposer domain) is its
// coinbase's.
func (e *Engine) signedByProposer(h *chain.Header) bool {
	root := e.BlockSigningRoot(h)
	signer, err := recoverSigner(root[:], h.Seal[:crypto.SignatureLength])
	return err == nil && signer == h.Coinbase
}

// lowS reports whether sig is a signature with r and s in range, s in the
// lower half of the curve order and v 0 or 1: the one form of each
// signature that crypto.Sign produces.
func lowS(sig []byte) bool {
	return len(sig) == crypto.SignatureLength &&
		crypto.ValidateSignatureValues(sig[64], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64]), true)
}

// errNotOurSlot is returned by Prepare when this node has no key for the
// coinbase or the current slot is not after the parent's.
var errNotOurSlot = errors.New("pos: no slot to propose in")

// Prepare fills a header for the current slot, with its coinbase (one of
// this node's validator keys) as proposer and that key's RANDAO reveal; Seal
// adds the signature.
func (e *Engine) Prepare(_ chain.ChainReader, h, parent *chain.Header) error {
	slot := e.SlotAt(e.now())
	key := e.keyOf[h.Coinbase]
	if key == nil || slot <= parent.Nonce {
		return errNotOurSlot
	}
	reveal, err := sign(e.revealRoot(e.Epoch(slot)), key)
	if err != nil {
		return err
	}
	h.Nonce, h.Time, h.Bits = slot, e.g.Timestamp+slot*e.slotMs, 0
	h.Seal = append(make([]byte, crypto.SignatureLength), reveal...)
	return nil
}

// Seal signs the header's signing root (BlockSigningRoot) with the key of
// its coinbase.
func (e *Engine) Seal(_ context.Context, _ chain.ChainReader, b *chain.Block) (*chain.Block, error) {
	key := e.keyOf[b.Header.Coinbase]
	if key == nil {
		return nil, fmt.Errorf("pos: no validator key for %s", b.Header.Coinbase.Hex())
	}
	h := b.Header.Copy()
	if len(h.Seal) != sealSize {
		return nil, fmt.Errorf("pos: seal of %d bytes, Prepare makes %d", len(h.Seal), sealSize)
	}
	sig, err := sign(e.BlockSigningRoot(h), key)
	if err != nil {
		return nil, err
	}
	copy(h.Seal, sig)
	return &chain.Block{Header: h, Txs: b.Txs, Consensus: b.Consensus}, nil
}

// Weight is 1: under ForkChoiceLongest the chain follows the longest branch
// that keeps the finalized checkpoint; under ForkChoiceGhost (the default
// with finality) the fork choice of forkchoice.go picks the head instead.
func (e *Engine) Weight(*chain.Header) *big.Int { return big.NewInt(1) }

// Finalized is the latest finalized checkpoint block in st; zero while only
// genesis is final.
func (e *Engine) Finalized(_ *chain.Header, st *chain.State) common.Hash {
	return e.beyondGenesis(e.finalized(st))
}

// Safe is the latest justified checkpoint block in st; zero while only
// genesis is justified.
func (e *Engine) Safe(_ *chain.Header, st *chain.State) common.Hash {
	return e.beyondGenesis(e.justified(st))
}

func (e *Engine) beyondGenesis(c Checkpoint) common.Hash {
	if c.Hash == e.genesisHash {
		return common.Hash{}
	}
	return c.Hash
}

// maxEpochGap bounds the checkpoints one block records after a long gap.
const maxEpochGap = 1024

// BeginBlock opens a new epoch if h is its first block (fixing the seed and
// recording the checkpoint), checks that h's proposer is the one drawn for
// its slot, and mixes its RANDAO reveal into the seed of later epochs.
func (e *Engine) BeginBlock(_ chain.ChainReader, st *chain.State, h *chain.Header) error {
	slot, epoch := h.Nonce, e.Epoch(h.Nonce)
	if seed, _ := getRec(st, keySeed); seed.Nonce != epoch+1 {
		mix, _ := getRec(st, keyMix)
		setWord(st, keySeed, epoch+1, hashOf(mix))
		first := uint64(1)
		if seed.Nonce > 0 {
			first = seed.Nonce // the epoch after the last one that had a block
		}
		first = max(first, epoch-min(epoch, maxEpochGap))
		for ep := first; ep <= epoch; ep++ {
			if ep > 0 {
				setWord(st, keyCheckpoint(ep), 1, h.ParentHash)
			}
		}
		e.settleStakes(st, epoch)
		e.updateInactivity(st, epoch)
		e.takeSnapshot(st, first, epoch)
		d, _ := getRec(st, keyStakeDigest)
		setWord(st, keyDrawDigest, epoch+1, hashOf(d)) // the epoch's schedule is fixed
		e.prune(st)
	}
	want := e.Proposer(st, slot)
	if h.Coinbase != want {
		return chain.NewRuleError(ErrWrongProposer, "slot %d belongs to %s, block from %s", slot, want.Hex(), h.Coinbase.Hex())
	}
	if e.Slashed(st, want) {
		return chain.NewRuleError(ErrWrongProposer, "slot %d belongs to %s, slashed since the epoch began", slot, want.Hex())
	}
	reveal := h.Seal[crypto.SignatureLength:]
	root := e.revealRoot(epoch)
	if signer, err := recoverSigner(root[:], reveal); err != nil || signer != h.Coinbase {
		return chain.NewRuleError(ErrBadReveal, "block %d", h.Height)
	}
	mix, _ := getRec(st, keyMix)
	m := hashOf(mix)
	setWord(st, keyMix, 0, common.BytesToHash(crypto.Keccak256(m[:], crypto.Keccak256(reveal))))
	return nil
}

// Vote is a validator's vote of an epoch: for Casper FFG, the voter's
// latest justified checkpoint (source) and the current epoch's checkpoint
// (target); for LMD-GHOST, the block it sees as head (forkchoice.go). A
// vote without a head (the zero hash) encodes as before the head was added.
type Vote struct {
	Source Checkpoint
	Target Checkpoint
	Head   common.Hash `rlp:"optional"`
}

// ApplySystemTx applies a transaction to StakingAddress: a bond or an
// unbond.
func (e *Engine) ApplySystemTx(st *chain.State, h *chain.Header, from common.Address, tx *types.Transaction) error {
	return e.staking(st, h, from, tx)
}
