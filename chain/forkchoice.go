package chain

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Fork choice. Without a ForkChoice the chain follows the branch of the
// highest total Weight, deciding as each block arrives. An engine that
// implements ForkChooser picks the head itself among the blocks the chain
// stored (proof of stake: LMD-GHOST from the latest justified checkpoint);
// the chain then tells it of every stored block and of the state after
// every adopted head, and moves to the block it names, executing that
// branch as any reorg does. The chain still refuses what breaks its own
// rules whatever the fork choice says: a branch without the finalized block
// or the trusted checkpoint.

// ForkChooser is implemented by engines that choose the head themselves.
type ForkChooser interface {
	// NewForkChoice returns the fork choice of one chain whose blocks all
	// descend from anchor (the node's finalized block when the chain is
	// opened), or nil for the heaviest branch by Weight.
	NewForkChoice(anchor *Header) ForkChoice
}

// ForkChoice picks the head among the stored blocks of one chain. The chain
// calls it with its write lock held; it must not call back into the chain.
type ForkChoice interface {
	// AddBlock tells of a block the chain stored or is storing (on any
	// branch), after its parent; arrived is when it came (zero when the
	// chain is reopened). A block whose parent it does not know, it
	// ignores.
	AddBlock(b *Block, arrived time.Time)
	// Executed tells of the head the chain adopted and its state st, read
	// during the call only.
	Executed(head *Block, st *State)
	// Invalid tells that the block broke a rule: neither it nor any
	// descendant may be chosen.
	Invalid(hash common.Hash)
	// Head returns the block to follow at time now, given the head state
	// st (read during the call only).
	Head(st *State, now time.Time) common.Hash
	// Root tells that every head must descend from the stored block hash
	// (the trusted checkpoint, once the chain has it).
	Root(hash common.Hash)
}

// loadForkChoice makes the engine's fork choice, if it has one, and feeds
// it the stored blocks above the finalized one.
func (c *Chain) loadForkChoice() error {
	fcr, ok := c.engine.(ForkChooser)
	if !ok {
		return nil
	}
	anchor, err := c.store.Header(c.finalized.Hash)
	if err != nil {
		return fmt.Errorf("read finalized block: %w", err)
	}
	fc := fcr.NewForkChoice(anchor)
	if fc == nil {
		return nil
	}
	for height := anchor.Height + 1; ; height++ {
		hashes, err := c.store.HashesAt(height)
		if err != nil {
			return fmt.Errorf("list blocks at %d: %w", height, err)
		}
		if len(hashes) == 0 {
			break
		}
		for _, hash := range hashes {
			b, err := c.readBlock(hash)
			if err != nil {
				return fmt.Errorf("read block %x: %w", hash, err)
			}
			fc.AddBlock(b, time.Time{})
		}
	}
	fc.Executed(c.head().block, c.state)
	if t := c.trusted; t != nil {
		if _, err := c.store.Header(t.Hash); err == nil {
			fc.Root(t.Hash)
		}
	}
	c.fc = fc
	return nil
}

// insertChosen stores b (valid as far as its header goes, weight its
// branch's total) and follows the fork choice: it extends the head with b,
// keeps b as a side block, or reorgs to the chosen block.
func (c *Chain) insertChosen(b *Block, weight *big.Int) (*HeadEvent, error) {
	arrived, _ := c.arrivals.get(b.Hash())
	c.fc.AddBlock(b, arrived)
	if t := c.trusted; t != nil && t.Hash == b.Hash() {
		c.fc.Root(b.Hash())
	}
	target := c.fc.Head(c.state, c.clock.Now())
	if target == b.Hash() && b.Header.ParentHash == c.head().block.Hash() && c.mayAdopt(nil) == nil {
		ev, err := c.extendHead(b, weight)
		if err != nil {
			return nil, err
		}
		return c.settle(ev)
	}
	batch := newBatch()
	if err := batch.putBlock(b, weight); err != nil {
		return nil, err
	}
	if err := c.store.commit(batch); err != nil {
		return nil, fmt.Errorf("store side block %x: %w", b.Hash(), err)
	}
	ev, err := c.adopt(target)
	if err == nil {
		ev, err = c.settle(ev)
	}
	if err != nil && IsRuleError(err) {
		if _, bad := c.invalid[b.Hash()]; !bad {
			// Another stored branch proved invalid: b itself is fine.
			c.log.Warn("Chosen branch is invalid", "head", target, "err", err)
			return nil, nil
		}
	}
	return ev, err
}

// adopt moves the head to the stored block target, unless it is the head
// or one of its ancestors already (the chain never rolls back to a prefix of
// itself), or the trusted checkpoint is not known yet.
func (c *Chain) adopt(target common.Hash) (*HeadEvent, error) {
	if target == (common.Hash{}) || target == c.head().block.Hash() || errors.Is(c.mayAdopt(nil), errAwaitCheckpoint) {
		return nil, nil
	}
	b, err := c.readBlock(target)
	if err != nil {
		return nil, fmt.Errorf("read chosen head %x: %w", target, err)
	}
	if canon, err := c.store.CanonicalHash(b.Height()); err == nil && canon == target {
		return nil, nil
	}
	weight, err := c.store.Weight(target)
	if err != nil {
		return nil, fmt.Errorf("read weight of %x: %w", target, err)
	}
	return c.reorg(b, weight, newBatch())
}

// UpdateHead asks the fork choice for the head again and moves to it: what
// it counts changes with time as well as with blocks (a proposer's boost
// ends with its slot). Without an engine fork choice it does nothing.
func (c *Chain) UpdateHead() error {
	if c.fc == nil {
		return nil
	}
	c.mu.Lock()
	ev, err := c.adopt(c.fc.Head(c.state, c.clock.Now()))
	if err == nil {
		ev, err = c.settle(ev)
	}
	c.unlockAndNotify(ev)
	return err
}

// maxSettle bounds the head changes of one insert or UpdateHead.
const maxSettle = 4

// settle asks the fork choice again after the head changed (ev): the new
// head's state may show that its branch justifies less than the fork
// choice's checkpoint, which rules it out. Every head change is delivered,
// in order; it returns the last (nil with an error: the earlier ones are
// queued).
func (c *Chain) settle(ev *HeadEvent) (*HeadEvent, error) {
	for i := 0; ev != nil && i < maxSettle; i++ {
		next, err := c.adopt(c.fc.Head(c.state, c.clock.Now()))
		if err != nil {
			c.enqueue(ev)
			return nil, err
		}
		if next == nil {
			return ev, nil
		}
		c.enqueue(ev)
		ev = next
	}
	return ev, nil
}

// ForkChoice returns the engine's fork choice of this chain, nil when the
// chain follows the heaviest branch. Its methods other than those the chain
// calls may be called by the engine's own components (a vote seen in
// gossip), which it must guard itself.
func (c *Chain) ForkChoice() ForkChoice { return c.fc }

// executed tells the fork choice, if any, of the adopted head.
func (c *Chain) executed(head *Block) {
	if c.fc != nil {
		c.fc.Executed(head, c.state)
	}
}
