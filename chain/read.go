package chain

import (
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Genesis returns the chain parameters.
func (c *Chain) Genesis() *Genesis { return c.genesis }

// GenesisHeader returns block 0's header.
func (c *Chain) GenesisHeader() *Header { return c.genesisHeader }

// Now is the chain's clock.
func (c *Chain) Now() time.Time { return c.clock.Now() }

// Clock returns the chain's clock.
func (c *Chain) Clock() clock.Clock { return c.clock }

// Engine returns the consensus engine.
func (c *Chain) Engine() Engine { return c.engine }

// GetHeader returns a stored header, or nil.
func (c *Chain) GetHeader(hash common.Hash) *Header {
	h, err := c.store.Header(hash)
	if err != nil {
		return nil
	}
	return h
}

// CurrentHeader returns the head's header. It takes no lock, so engine
// hooks may call it.
func (c *Chain) CurrentHeader() *Header { return c.Head().Header }

// Head returns the head block without taking a lock. Blocks are shared: do
// not modify them.
func (c *Chain) Head() *Block { return c.head().block }

// HeadWeight returns the total weight of the canonical chain.
func (c *Chain) HeadWeight() *big.Int { return new(big.Int).Set(c.head().weight) }

// BlockByHash returns a stored block, canonical or not, or ErrNotFound.
func (c *Chain) BlockByHash(hash common.Hash) (*Block, error) { return c.readBlock(hash) }

// BlockByHeight returns the canonical block at height, or ErrNotFound.
func (c *Chain) BlockByHeight(height uint64) (*Block, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	hash, err := c.store.CanonicalHash(height)
	if err != nil {
		return nil, err
	}
	return c.readBlock(hash)
}

// HeaderByHash returns a stored header, canonical or not, or ErrNotFound.
func (c *Chain) HeaderByHash(hash common.Hash) (*Header, error) { return c.store.Header(hash) }

// HeaderByHeight returns the header of the canonical block at height, or
// ErrNotFound, without reading the block's body.
func (c *Chain) HeaderByHeight(height uint64) (*Header, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	hash, err := c.store.CanonicalHash(height)
	if err != nil {
		return nil, err
	}
	return c.store.Header(hash)
}

// Weight returns the total weight of the branch ending at hash.
func (c *Chain) Weight(hash common.Hash) (*big.Int, error) { return c.store.Weight(hash) }

// IsCanonical reports whether hash is on the canonical chain.
func (c *Chain) IsCanonical(hash common.Hash) bool {
	h, err := c.store.Header(hash)
	if err != nil {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	canon, err := c.store.CanonicalHash(h.Height)
	return err == nil && canon == hash
}

// Account returns addr's account at the head.
func (c *Chain) Account(addr common.Address) Account {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a, _ := c.state.Get(addr)
	return a
}

// Record returns the engine record at key in the head state, or nil.
func (c *Chain) Record(key common.Hash) []byte {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state.Record(key)
}

// AccountAt returns addr's account after the canonical block at height. It
// reads through the state trie at that block's root and takes no chain
// lock, so it costs about the same at any height and never holds up an
// import.
func (c *Chain) AccountAt(addr common.Address, height uint64) (Account, error) {
	return c.store.AccountAt(addr, height)
}

// AccountIn reads addr's account after the block whose header is h, a
// block the caller knows to be canonical: what AccountAt does once it has
// found the header.
func (c *Chain) AccountIn(addr common.Address, h *Header) (Account, error) {
	return c.store.accountIn(addr, h)
}

// ProveAccount returns the Merkle proof of addr's account and of the
// storage slots named after the canonical block at height (see
// AccountProof).
func (c *Chain) ProveAccount(addr common.Address, slots []common.Hash, height uint64) (*AccountProof, error) {
	return c.store.ProveAccount(addr, slots, height)
}

// Finality returns the node's finalized block (see Finalized) and the
// latest justified ("safe") block at the head; ok is false when the engine
// finalizes nothing (PoW). A zero hash means none beyond genesis yet.
func (c *Chain) Finality() (finalized, safe common.Hash, ok bool) {
	f, ok := c.engine.(Finalizer)
	if !ok {
		return common.Hash{}, common.Hash{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.finalized.Number > 0 {
		finalized = c.finalized.Hash
	}
	safe = f.Safe(c.head().block.Header, c.state)
	if h, err := c.store.Header(safe); err != nil || h.Height < c.finalized.Number {
		safe = finalized // the head's state lacks the votes that finalized it
	}
	return finalized, safe, true
}

// Finalized is the node's finalized checkpoint: the highest block that the
// engine reported finalized on any head this node adopted, or the trusted
// checkpoint once reached (genesis at first). It is stored, only moves to a
// descendant, and fork choice never leaves it.
func (c *Chain) Finalized() Checkpoint {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.finalized
}

// StateRoot recomputes the head state's root from the accounts in memory.
func (c *Chain) StateRoot() common.Hash {
	c.mu.Lock() // Root updates the tree's cached hashes
	defer c.mu.Unlock()
	return c.state.Root()
}

// TxLocation says where a canonical transaction is.
type TxLocation struct {
	Block *Block
	Index int
}

// Tx finds a canonical transaction by hash, or returns ErrNotFound.
func (c *Chain) Tx(hash common.Hash) (*types.Transaction, TxLocation, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	bhash, idx, err := c.store.TxLookup(hash)
	if err != nil {
		return nil, TxLocation{}, err
	}
	b, err := c.readBlock(bhash)
	if err != nil {
		return nil, TxLocation{}, err
	}
	if int(idx) >= len(b.Txs) || b.Txs[idx].Hash() != hash {
		return nil, TxLocation{}, fmt.Errorf("tx %x: index points at block %x position %d: %w", hash, bhash, idx, ErrNotFound)
	}
	return b.Txs[idx], TxLocation{Block: b, Index: int(idx)}, nil
}

// HeadersAt returns every stored header at height, canonical or not.
func (c *Chain) HeadersAt(height uint64) ([]*Header, error) {
	hashes, err := c.store.HashesAt(height)
	if err != nil {
		return nil, err
	}
	out := make([]*Header, 0, len(hashes))
	for _, hash := range hashes {
		h, err := c.store.Header(hash)
		if err != nil {
			return nil, fmt.Errorf("header %x: %w", hash, err)
		}
		out = append(out, h)
	}
	return out, nil
}

// TreeNode is one block of the block tree.
type TreeNode struct {
	Hash        common.Hash
	Parent      common.Hash
	Height      uint64
	Time        uint64
	Coinbase    common.Address
	Txs         int
	Weight      *big.Int // what this block adds
	TotalWeight *big.Int // of the branch up to it
	Canonical   bool
	Received    time.Time // zero if unknown (arrived before a restart)
}

// BlockTree lists every stored block with height in [from, to], canonical or
// not, lowest height first.
func (c *Chain) BlockTree(from, to uint64) ([]TreeNode, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []TreeNode
	for h := from; h <= to && h <= c.head().block.Height()+64; h++ {
		headers, err := c.HeadersAt(h)
		if err != nil {
			return nil, err
		}
		canon, _ := c.store.CanonicalHash(h)
		for _, hdr := range headers {
			hash := hdr.Hash()
			tw, err := c.store.Weight(hash)
			if err != nil {
				return nil, err
			}
			received, _ := c.arrivals.get(hash)
			out = append(out, TreeNode{
				Hash: hash, Parent: hdr.ParentHash, Height: h, Time: hdr.Time, Coinbase: hdr.Coinbase,
				Txs:    int(hdr.GasUsed / TransferGas), // every stored block passed the gas-used rule
				Weight: c.engine.Weight(hdr), TotalWeight: tw, Canonical: hash == canon, Received: received,
			})
		}
	}
	return out, nil
}

// VerifyReplay re-executes the canonical chain from genesis on a fresh state
// and checks every block's state root and the final state against the head,
// then reads every node of the head's stored state and checks it against
// its hash. It is the check to run on a data directory one does not trust.
func (c *Chain) VerifyReplay() error {
	head := c.Head()
	if err := c.store.checkState(head.Header.StateRoot); err != nil {
		return fmt.Errorf("stored state of head %d: %w", head.Height(), err)
	}
	_, st := c.genesis.Block(c.engine)
	for h := uint64(1); h <= head.Height(); h++ {
		b, err := c.BlockByHeight(h)
		if err != nil {
			return fmt.Errorf("replay: block %d: %w", h, err)
		}
		if err := c.applyBlock(st, b); err != nil {
			return fmt.Errorf("replay: block %d (%x): %w", h, b.Hash(), err)
		}
		st.ClearJournal()
	}
	if root := c.StateRoot(); root != st.Root() {
		return fmt.Errorf("replay: head state root %x, replay gives %x", root, st.Root())
	}
	if st.Root() != head.Header.StateRoot {
		return errors.New("replay: final state does not match the head header")
	}
	return nil
}

// Locator lists canonical block hashes from the head back to genesis, dense
// near the head and exponentially sparser below it, for a peer to find where
// its chain and ours part.
func (c *Chain) Locator() []common.Hash {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []common.Hash
	step := uint64(1)
	for h := c.head().block.Height(); ; {
		if hash, err := c.store.CanonicalHash(h); err == nil {
			out = append(out, hash)
		}
		if h == 0 {
			return out
		}
		if len(out) >= 10 {
			step *= 2
		}
		if h < step {
			h = 0
		} else {
			h -= step
		}
	}
}

// HeadersAfter returns up to max canonical headers following the first
// locator hash that is on our canonical chain (genesis if none is).
func (c *Chain) HeadersAfter(locator []common.Hash, max int) ([]*Header, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	start := uint64(0)
	for _, hash := range locator {
		h, err := c.store.Header(hash)
		if err != nil {
			continue
		}
		if canon, err := c.store.CanonicalHash(h.Height); err == nil && canon == hash {
			start = h.Height
			break
		}
	}
	var out []*Header
	for height := start + 1; height <= c.head().block.Height() && len(out) < max; height++ {
		hash, err := c.store.CanonicalHash(height)
		if err != nil {
			return nil, err
		}
		h, err := c.store.Header(hash)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// VerifyHeaders checks a chain of headers received before their bodies: the
// first must extend a stored block, each the one before it, and each must pass
// the height, time and engine rules. It returns the total weight the branch
// would have at its last header.
func (c *Chain) VerifyHeaders(headers []*Header) (*big.Int, error) {
	if len(headers) == 0 {
		return nil, errors.New("no headers")
	}
	parent, err := c.store.Header(headers[0].ParentHash)
	if err != nil {
		return nil, fmt.Errorf("%w: header %d has parent %x", ErrUnknownParent, headers[0].Height, headers[0].ParentHash)
	}
	weight, err := c.store.Weight(parent.Hash())
	if err != nil {
		return nil, err
	}
	weight = new(big.Int).Set(weight)
	batch := batchReader{Chain: c, batch: make(map[common.Hash]*Header, len(headers))}
	for i, h := range headers {
		if i > 0 && h.ParentHash != parent.Hash() {
			return nil, NewRuleError(ErrUnknownParent, "header %d does not link to the one before it", h.Height)
		}
		if err := c.verifyHeader(batch, h, parent); err != nil {
			return nil, err
		}
		weight.Add(weight, c.engine.Weight(h))
		batch.batch[h.Hash()] = h
		parent = h
	}
	return weight, nil
}

// batchReader is the chain as an engine sees it while verifying a batch of
// headers that are not stored yet: an engine may read a header's ancestors
// (PoW's difficulty reads the grandparent), and those may be in the batch.
type batchReader struct {
	*Chain
	batch map[common.Hash]*Header
}

// GetHeader returns the header from the batch or the store.
func (r batchReader) GetHeader(hash common.Hash) *Header {
	if h, ok := r.batch[hash]; ok {
		return h
	}
	return r.Chain.GetHeader(hash)
}

// Received is when this node first saw a block that passed to validation
// (this run only; false for blocks from before a restart).
func (c *Chain) Received(hash common.Hash) (time.Time, bool) { return c.arrivals.get(hash) }

// arrivalLog remembers when the most recent blocks first arrived.
type arrivalLog struct {
	mu    sync.Mutex
	at    map[common.Hash]time.Time
	order []common.Hash
}

const maxArrivals = 16_384

func (l *arrivalLog) record(hash common.Hash, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.at == nil {
		l.at = make(map[common.Hash]time.Time)
	}
	if _, ok := l.at[hash]; ok {
		return
	}
	if len(l.order) >= maxArrivals {
		delete(l.at, l.order[0])
		l.order = l.order[1:]
	}
	l.at[hash] = t
	l.order = append(l.order, hash)
}

func (l *arrivalLog) get(hash common.Hash) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.at[hash]
	return t, ok
}
