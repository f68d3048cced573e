package chain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"

	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Config is what a Chain is built from.
type Config struct {
	Store   *Store       // required: the database; Open takes no ownership
	Genesis *Genesis     // required: must match the one the store was created with
	Engine  Engine       // required
	Clock   clock.Clock  // optional: the clock for timestamps and future-block checks; clock.Real
	Logger  *slog.Logger // optional: slog.Default()
	// Checkpoint (optional) is a trusted block (weak subjectivity): the
	// chain only accepts branches that contain it.
	Checkpoint *Checkpoint
}

// HeadEvent tells subscribers that the head changed. Removed lists the blocks
// a reorg took off the canonical chain (newest first), Added the blocks that
// became canonical (oldest first, ending with Head).
type HeadEvent struct {
	Head    *Block
	Removed []*Block
	Added   []*Block
}

// Chain is the block tree, the canonical chain and the head state.
type Chain struct {
	store   *Store
	genesis *Genesis
	engine  Engine
	body    BodyTransition // engine's, or nil: blocks carry no consensus body
	proof   ProofVerifier  // engine's, or nil: blocks carry no proof
	clock   clock.Clock
	log     *slog.Logger

	genesisHeader *Header

	// mu guards state, invalid and finalized, and orders writers. The head
	// is read through current without any lock, so engine hooks (called
	// with mu held) and readers never wait for an import.
	mu        sync.RWMutex
	state     *State
	current   atomic.Pointer[headSnapshot]
	invalid   map[common.Hash]error
	finalized Checkpoint  // the node's finalized block: canonical, only moves forward
	trusted   *Checkpoint // the trusted checkpoint, or nil

	notifyMu sync.Mutex // held while subscribers run, so events arrive in order
	subs     []func(HeadEvent)
	queueMu  sync.Mutex
	queue    []HeadEvent // head changes not yet delivered, oldest first

	arrivals arrivalLog
	fc       ForkChoice // the engine's fork choice, or nil: the heaviest branch
}

const maxInvalidCache = 4096

// headSnapshot is the head block and its branch's total weight, replaced
// whole on every head change.
type headSnapshot struct {
	block  *Block
	weight *big.Int
}

// setHead publishes a new head; the caller holds mu.
func (c *Chain) setHead(b *Block, weight *big.Int) {
	c.current.Store(&headSnapshot{block: b, weight: weight})
}

// head returns the current head snapshot.
func (c *Chain) head() *headSnapshot { return c.current.Load() }

var _ ChainReader = (*Chain)(nil)

// Open loads the chain from the store, writing the genesis block into an empty
// store. It refuses a store created with another genesis, and one whose
// account state does not match its head's state root.
func Open(cfg Config) (*Chain, error) {
	if cfg.Store == nil || cfg.Genesis == nil || cfg.Engine == nil {
		return nil, errors.New("open chain: Store, Genesis and Engine are required")
	}
	c := &Chain{
		store:   cfg.Store,
		genesis: cfg.Genesis,
		engine:  cfg.Engine,
		clock:   clock.OrReal(cfg.Clock),
		log:     cfg.Logger,
		invalid: make(map[common.Hash]error),
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.body, _ = cfg.Engine.(BodyTransition)
	c.proof, _ = cfg.Engine.(ProofVerifier)
	gblock, gstate := cfg.Genesis.Block(cfg.Engine)
	c.genesisHeader = gblock.Header
	gjson, err := json.Marshal(cfg.Genesis)
	if err != nil {
		return nil, fmt.Errorf("encode genesis: %w", err)
	}
	stored, err := c.store.GenesisJSON()
	switch {
	case errors.Is(err, ErrNotFound):
		if err := c.writeGenesis(gblock, gstate, gjson); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("open chain: %w", err)
	default:
		if err := c.checkStored(stored, gjson, gblock); err != nil {
			return nil, fmt.Errorf("open chain: %w", err)
		}
	}
	if err := c.loadHead(); err != nil {
		return nil, fmt.Errorf("open chain: %w", err)
	}
	if err := c.loadFinality(cfg.Checkpoint); err != nil {
		return nil, fmt.Errorf("open chain: %w", err)
	}
	if err := c.loadForkChoice(); err != nil {
		return nil, fmt.Errorf("open chain: %w", err)
	}
	return c, nil
}

// checkStored refuses a store written in another block format, with
// another genesis than gjson (whose block is gblock), or with the same
// genesis file under other rules (another genesis block).
func (c *Chain) checkStored(stored, gjson []byte, gblock *Block) error {
	if err := c.store.checkFormats(); err != nil {
		return err
	}
	if bytes.Equal(stored, gjson) {
		if h, err := c.store.CanonicalHash(0); err == nil && h != gblock.Hash() {
			return fmt.Errorf("the database's genesis block is %s, but this chaind builds %s from the same genesis file: the consensus rules changed since the data directory was made; start with a new data directory, or run the chaind that made it", h.Hex(), gblock.Hash().Hex())
		}
		return nil
	}
	var other Genesis
	otherHash := "unreadable"
	if json.Unmarshal(stored, &other) == nil {
		otherBlock, _ := other.Block(c.engine)
		otherHash = otherBlock.Hash().Hex()
		other.FillDefaults()
		if filled, err := json.Marshal(&other); err == nil && bytes.Equal(filled, gjson) {
			return fmt.Errorf("the database's genesis block is %s, but this chaind fills in parameters that the chaind that made it did not have, and builds %s from the same genesis file: the consensus rules changed since the data directory was made; start with a new data directory, or run the chaind that made it", otherHash, gblock.Hash().Hex())
		}
	}
	return fmt.Errorf("the database was created with another genesis (block %s); this genesis is block %s", otherHash, gblock.Hash().Hex())
}

func (c *Chain) writeGenesis(g *Block, st *State, gjson []byte) error {
	b := newBatch()
	if err := b.putBlock(g, new(big.Int)); err != nil {
		return err
	}
	if err := b.setCanonical(g, undoRecord{}); err != nil {
		return err
	}
	if err := b.putState(st); err != nil {
		return err
	}
	b.setHead(g.Hash())
	b.setGenesis(gjson)
	if err := c.store.commit(b); err != nil {
		return fmt.Errorf("write genesis: %w", err)
	}
	c.store.cacheTrieNodes(st.nodes.pending()) // the first blocks read them, as a block's next ones do (see trieNodes.persisted)
	return nil
}

// loadHead reads the head and the state and checks that they agree.
func (c *Chain) loadHead() error {
	hash, err := c.store.Head()
	if err != nil {
		return fmt.Errorf("read head: %w", err)
	}
	head, err := c.readBlock(hash)
	if err != nil {
		return fmt.Errorf("read head block %x: %w", hash, err)
	}
	if canon, err := c.store.CanonicalHash(head.Height()); err != nil || canon != hash {
		return fmt.Errorf("database inconsistent: head %x is not canonical at height %d", hash, head.Height())
	}
	weight, err := c.store.Weight(hash)
	if err != nil {
		return fmt.Errorf("read head weight: %w", err)
	}
	st, err := c.store.openState(head.Header.StateRoot)
	if err != nil {
		return fmt.Errorf("database inconsistent: the state of head %d (%x) cannot be read (%w); the data directory cannot be trusted", head.Height(), hash, err)
	}
	c.state = st
	c.setHead(head, weight)
	return nil
}

// Subscribe registers fn to be called after every head change, in order.
// fn runs on the inserting goroutine with no chain lock held; it may read the
// chain but must not insert blocks.
func (c *Chain) Subscribe(fn func(HeadEvent)) {
	c.notifyMu.Lock()
	defer c.notifyMu.Unlock()
	c.subs = append(c.subs, fn)
}

// unlockAndNotify queues ev (if any), releases the write lock and delivers
// queued events in order. Events are queued under the write lock, so the
// queue holds them in the order the head changed; whoever holds notifyMu
// delivers them, and no goroutine waits for notifyMu while holding mu (a
// subscriber reading the chain would deadlock with it otherwise).
func (c *Chain) unlockAndNotify(ev *HeadEvent) {
	c.enqueue(ev)
	c.mu.Unlock()
	c.queueMu.Lock()
	empty := len(c.queue) == 0
	c.queueMu.Unlock()
	if empty {
		return
	}
	c.notifyMu.Lock()
	defer c.notifyMu.Unlock()
	for {
		c.queueMu.Lock()
		if len(c.queue) == 0 {
			c.queueMu.Unlock()
			return
		}
		next := c.queue[0]
		c.queue = c.queue[1:]
		c.queueMu.Unlock()
		for _, fn := range c.subs {
			fn(next)
		}
	}
}

// enqueue queues ev (if any) for delivery; the caller holds mu.
func (c *Chain) enqueue(ev *HeadEvent) {
	if ev != nil {
		c.queueMu.Lock()
		c.queue = append(c.queue, *ev)
		c.queueMu.Unlock()
	}
}

// InsertBlock validates b and stores it. If its branch becomes the heaviest,
// the chain switches to it (executing the branch and rolling back the old one)
// in one atomic write. It returns ErrKnownBlock for a stored block, an error
// wrapping ErrUnknownParent for an orphan, and a RuleError (see IsRuleError)
// for an invalid block; in each case nothing changes.
func (c *Chain) InsertBlock(b *Block) error {
	c.genesis.RecoverSenders(b.Txs) // in parallel, before taking the lock
	c.mu.Lock()
	ev, err := c.insert(b)
	c.unlockAndNotify(ev)
	return err
}

func (c *Chain) insert(b *Block) (*HeadEvent, error) {
	hash := b.Hash()
	if err, bad := c.invalid[hash]; bad {
		return nil, err
	}
	if _, err := c.store.Header(hash); err == nil {
		return nil, ErrKnownBlock
	}
	if perr, bad := c.invalid[b.Header.ParentHash]; bad {
		return nil, c.markInvalid(hash, NewRuleError(ErrInvalidAncestor, "parent %x: %v", b.Header.ParentHash, perr))
	}
	parent, err := c.store.Header(b.Header.ParentHash)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: block %d (%x) has parent %x", ErrUnknownParent, b.Height(), hash, b.Header.ParentHash)
	} else if err != nil {
		return nil, fmt.Errorf("read parent %x: %w", b.Header.ParentHash, err)
	}
	if err := c.verifyProof(b); err != nil {
		return nil, err // the block may come again with a valid proof
	}
	c.arrivals.record(hash, c.clock.Now())
	if err := c.verifyBlock(b, parent); err != nil {
		if errors.Is(err, ErrFutureBlock) {
			return nil, err // it may become valid later
		}
		return nil, c.markInvalid(hash, err)
	}
	if err := c.checkFinality(b, parent); err != nil {
		if !IsRuleError(err) {
			return nil, err
		}
		return nil, c.markInvalid(hash, err)
	}
	parentWeight, err := c.store.Weight(parent.Hash())
	if err != nil {
		return nil, fmt.Errorf("read weight of %x: %w", parent.Hash(), err)
	}
	weight := new(big.Int).Add(parentWeight, c.engine.Weight(b.Header))

	if c.fc != nil {
		return c.insertChosen(b, weight)
	}
	head := c.head()
	if b.Header.ParentHash == head.block.Hash() && c.mayAdopt(nil) == nil {
		return c.extendHead(b, weight)
	}
	batch := newBatch()
	if err := batch.putBlock(b, weight); err != nil {
		return nil, err
	}
	if weight.Cmp(head.weight) <= 0 || errors.Is(c.mayAdopt(nil), errAwaitCheckpoint) {
		if err := c.store.commit(batch); err != nil {
			return nil, fmt.Errorf("store side block %x: %w", hash, err)
		}
		c.log.Debug("Stored side block", "height", b.Height(), "hash", hash, "weight", weight)
		return nil, nil
	}
	return c.reorg(b, weight, batch)
}

// markInvalid remembers that the block hash broke a rule, so that it is
// refused at once if it comes again. Any other error is a local failure (a
// disk error, say): it is returned but not remembered, and the block may be
// offered again.
func (c *Chain) markInvalid(hash common.Hash, err error) error {
	if serr := c.state.Err(); serr != nil {
		return fmt.Errorf("block %x not checked: the state cannot be read: %w", hash, serr) // not the block's fault
	}
	if !IsRuleError(err) {
		return err
	}
	if c.fc != nil {
		c.fc.Invalid(hash)
	}
	if len(c.invalid) >= maxInvalidCache {
		clear(c.invalid)
	}
	c.invalid[hash] = err
	return err
}

// verifyBlock checks everything that does not need the parent's state.
func (c *Chain) verifyBlock(b *Block, parent *Header) error {
	if err := c.verifyHeader(c, b.Header, parent); err != nil {
		return err
	}
	return verifyBody(b)
}

// verifyBody checks b's header against its body.
func verifyBody(b *Block) error {
	h := b.Header
	if want := uint64(len(b.Txs)) * TransferGas; h.GasUsed != want {
		return NewRuleError(ErrBadGasUsed, "gas used %d, %d transactions use %d", h.GasUsed, len(b.Txs), want)
	}
	if root := TxRoot(b.Txs); root != h.TxRoot {
		return NewRuleError(ErrBadTxRoot, "header has %x, body gives %x", h.TxRoot, root)
	}
	if root := ReceiptRoot(b.Txs); root != h.ReceiptRoot {
		return NewRuleError(ErrBadReceiptRoot, "header has %x, body gives %x", h.ReceiptRoot, root)
	}
	if root := ConsensusBodyRoot(b.Consensus); root != h.ConsensusRoot {
		return NewRuleError(ErrBadConsensusRoot, "header has %x, consensus body gives %x", h.ConsensusRoot, root)
	}
	return nil
}

// verifyProof checks b's proof with the engine's ProofVerifier; an engine
// without one takes no proof.
func (c *Chain) verifyProof(b *Block) error {
	if c.proof == nil {
		if len(b.Proof) > 0 {
			return NewRuleError(ErrBadProof, "this engine takes no proof (%d bytes)", len(b.Proof))
		}
		return nil
	}
	if err := c.proof.VerifyProof(c, b.Header, b.Proof); err != nil {
		if IsRuleError(err) {
			return err
		}
		return fmt.Errorf("verify proof of block %d: %w", b.Height(), err)
	}
	return nil
}

// verifyHeader checks the header rules: height, time, gas limit, engine; r
// is the chain as the engine sees it.
func (c *Chain) verifyHeader(r ChainReader, h, parent *Header) error {
	if err := c.verifyHeaderFields(h, parent); err != nil {
		return err
	}
	if err := c.engine.VerifyHeader(r, h, parent); err != nil {
		if IsRuleError(err) {
			return fmt.Errorf("%w: %w", ErrConsensus, err)
		}
		return fmt.Errorf("verify header %d: %w", h.Height, err) // the engine's own failure, not the block's
	}
	return nil
}

// verifyHeaderFields checks the header rules that are not the engine's.
func (c *Chain) verifyHeaderFields(h, parent *Header) error {
	if h.Height != parent.Height+1 {
		return NewRuleError(ErrBadHeight, "height %d on parent of height %d", h.Height, parent.Height)
	}
	if h.Time <= parent.Time {
		return NewRuleError(ErrBadTime, "time %d not after parent's %d", h.Time, parent.Time)
	}
	if limit := uint64(c.clock.Now().Add(c.genesis.MaxFuture.D()).UnixMilli()); h.Time > limit {
		return NewRuleError(ErrFutureBlock, "time %d is more than %v ahead of local time", h.Time, c.genesis.MaxFuture.D())
	}
	if h.GasLimit != c.genesis.GasLimit {
		return NewRuleError(ErrBadGasLimit, "gas limit %d, the genesis sets %d", h.GasLimit, c.genesis.GasLimit)
	}
	if h.BaseFee == nil || h.BaseFee.Cmp(c.genesis.BaseFee.Big()) != 0 {
		return NewRuleError(ErrBadBaseFee, "base fee %v, the genesis sets %v", h.BaseFee, c.genesis.BaseFee.Big())
	}
	if h.GasUsed > c.genesis.GasLimit || h.GasUsed%TransferGas != 0 {
		return NewRuleError(ErrBadGasUsed, "gas used %d: not a multiple of %d within the limit %d", h.GasUsed, TransferGas, c.genesis.GasLimit)
	}
	if limit := SealLimit(c.engine); len(h.Seal) > limit {
		return NewRuleError(ErrBadSeal, "seal of %d bytes, the engine's bound is %d", len(h.Seal), limit)
	}
	return nil
}

// extendHead executes b on the head state and makes it the head.
func (c *Chain) extendHead(b *Block, weight *big.Int) (*HeadEvent, error) {
	hash := b.Hash()
	mark := c.state.Mark()
	if err := c.applyBlock(c.state, b); err != nil {
		c.state.RevertTo(mark)
		return nil, c.markInvalid(hash, err)
	}
	undo := c.state.undoSince(mark)
	batch := newBatch()
	err := batch.putBlock(b, weight)
	if err == nil {
		err = batch.setCanonical(b, undo)
	}
	if err == nil {
		err = batch.putState(c.state)
	}
	var fin Checkpoint
	if err == nil {
		fin, err = c.advanceFinalized(b, batch)
	}
	if err == nil {
		batch.setHead(hash)
		err = c.store.commit(batch)
	}
	if err != nil {
		c.state.RevertTo(mark)
		return nil, fmt.Errorf("import block %d (%x): %w", b.Height(), hash, err)
	}
	c.state.ClearJournal()
	c.finalized = fin
	c.setHead(b, weight)
	c.executed(b)
	c.log.Debug("Imported block", "height", b.Height(), "hash", hash, "txs", len(b.Txs))
	return &HeadEvent{Head: b, Added: []*Block{b}}, nil
}

// reorg switches the canonical chain to the branch ending at newHead, whose
// own block is already in batch.
func (c *Chain) reorg(newHead *Block, weight *big.Int, batch *storeBatch) (*HeadEvent, error) {
	removed, added, err := c.branches(newHead)
	if err != nil {
		return nil, err
	}
	for _, b := range removed {
		if b.Height() <= c.finalized.Number {
			return nil, c.markInvalid(newHead.Hash(), NewRuleError(ErrRevertsFinalized, "branch of %x reverts finalized block %d (%x)", newHead.Hash(), c.finalized.Number, c.finalized.Hash))
		}
	}
	if err := c.mayAdopt(added); err != nil {
		return nil, c.markInvalid(newHead.Hash(), err)
	}
	mark := c.state.Mark()
	for _, b := range removed {
		u, err := c.store.undo(b.Hash())
		if err != nil {
			c.state.RevertTo(mark)
			return nil, fmt.Errorf("reorg: undo record of %x: %w", b.Hash(), err)
		}
		c.state.applyUndo(u)
		batch.unsetCanonical(b)
	}
	for i, b := range added {
		bm := c.state.Mark()
		if err := c.applyBlock(c.state, b); err != nil {
			c.state.RevertTo(mark)
			err = c.markInvalid(b.Hash(), err)
			for _, d := range added[i+1:] {
				c.markInvalid(d.Hash(), NewRuleError(ErrInvalidAncestor, "ancestor %x: %v", b.Hash(), err))
			}
			return nil, err
		}
		if err := batch.setCanonical(b, c.state.undoSince(bm)); err != nil {
			c.state.RevertTo(mark)
			return nil, err
		}
		if _, err := c.state.commit(); err != nil { // every canonical block's state stays readable
			c.state.RevertTo(mark)
			return nil, fmt.Errorf("reorg: state of block %d: %w", b.Height(), err)
		}
	}
	if err := batch.putState(c.state); err != nil {
		c.state.RevertTo(mark)
		return nil, err
	}
	fin, err := c.advanceFinalized(newHead, batch)
	if err != nil {
		c.state.RevertTo(mark)
		return nil, err
	}
	batch.setHead(newHead.Hash())
	if err := c.store.commit(batch); err != nil {
		c.state.RevertTo(mark)
		return nil, fmt.Errorf("reorg to %x: %w", newHead.Hash(), err)
	}
	c.state.ClearJournal()
	old := c.head().block
	c.finalized = fin
	c.setHead(newHead, weight)
	c.executed(newHead)
	c.log.Info("Chain reorganised", "from", old.Height(), "to", newHead.Height(),
		"depth", len(removed), "fork", added[0].Height()-1, "old", old.Hash(), "new", newHead.Hash())
	return &HeadEvent{Head: newHead, Removed: removed, Added: added}, nil
}

// branches walks back from the head and from newHead to their common
// ancestor: removed is the old branch (newest first), added the new one
// (oldest first, ending with newHead).
func (c *Chain) branches(newHead *Block) (removed, added []*Block, err error) {
	oldB, newB := c.head().block, newHead
	for oldB.Hash() != newB.Hash() {
		if newB.Height() >= oldB.Height() {
			added = append(added, newB)
			if newB, err = c.readBlock(newB.Header.ParentHash); err != nil {
				return nil, nil, fmt.Errorf("reorg: new branch: %w", err)
			}
		} else {
			removed = append(removed, oldB)
			if oldB, err = c.readBlock(oldB.Header.ParentHash); err != nil {
				return nil, nil, fmt.Errorf("reorg: old branch: %w", err)
			}
		}
	}
	for i, j := 0, len(added)-1; i < j; i, j = i+1, j-1 {
		added[i], added[j] = added[j], added[i]
	}
	return removed, added, nil
}

func (c *Chain) readBlock(hash common.Hash) (*Block, error) {
	h, err := c.store.Header(hash)
	if err != nil {
		return nil, err
	}
	txs, err := c.store.Txs(hash)
	if err != nil {
		return nil, err
	}
	body, err := c.store.Consensus(hash)
	if err != nil {
		return nil, err
	}
	proof, err := c.store.Proof(hash)
	if err != nil {
		return nil, err
	}
	return &Block{Header: h, Txs: txs, Consensus: body, Proof: proof}, nil
}

// BuildBlock assembles an unsealed block on the head: the engine's consensus
// body (BodyTransition) first, then txs (in priority order) while they are
// valid and fit the gas limit; once a sender's transaction fails, its later
// ones are skipped. The engine's Prepare fills
// the consensus fields; the caller seals.
func (c *Chain) BuildBlock(coinbase common.Address, txs []*types.Transaction) (*Block, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	parent := c.head().block.Header
	h := &Header{
		ParentHash: parent.Hash(),
		Coinbase:   coinbase,
		Height:     parent.Height + 1,
		Time:       max(uint64(c.clock.Now().UnixMilli()), parent.Time+1),
		GasLimit:   c.genesis.GasLimit,
		BaseFee:    new(big.Int).Set(c.genesis.BaseFee.Big()),
	}
	if err := c.engine.Prepare(c, h, parent); err != nil {
		return nil, fmt.Errorf("prepare block %d: %w", h.Height, err)
	}
	mark := c.state.Mark()
	defer c.state.RevertTo(mark)
	if err := engineStep("begin", h, c.engine.BeginBlock(c, c.state, h)); err != nil {
		return nil, fmt.Errorf("build block %d: %w", h.Height, err)
	}
	body, err := c.buildConsensus(c.state, h)
	if err != nil {
		return nil, fmt.Errorf("build block %d: %w", h.Height, err)
	}
	failed := make(map[common.Address]bool)
	var included []*types.Transaction
	for _, tx := range txs {
		if h.GasUsed+TransferGas > c.genesis.GasLimit {
			break
		}
		from, err := c.genesis.Sender(tx)
		if err != nil || failed[from] {
			continue
		}
		m := c.state.Mark()
		if err := c.applyTx(c.state, h, tx); err != nil {
			c.state.RevertTo(m)
			failed[from] = true
			continue
		}
		included = append(included, tx)
		h.GasUsed += TransferGas
	}
	if err := engineStep("finalize", h, c.engine.Finalize(c, c.state, h)); err != nil {
		return nil, fmt.Errorf("build block %d: %w", h.Height, err)
	}
	h.StateRoot = c.state.Root()
	h.TxRoot = TxRoot(included)
	h.ReceiptRoot = ReceiptRoot(included)
	return &Block{Header: h, Txs: included, Consensus: body}, nil
}
