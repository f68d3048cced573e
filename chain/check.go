package chain

import (
	"fmt"
)

// CheckBlock checks that b, not sealed yet, may extend the head: every rule
// InsertBlock checks except the engine's header check (which needs the
// seal) and the block's proof, then b's execution on the head's state, which it reverts. A
// validator of a BFT chain checks a proposed block so before it votes for
// it (the valid(v) of Tendermint). It returns a RuleError for a block that
// breaks a rule, and an error wrapping ErrUnknownParent for one that does
// not extend the head.
func (c *Chain) CheckBlock(b *Block) error {
	c.genesis.RecoverSenders(b.Txs) // in parallel, before taking the lock
	c.mu.Lock()
	defer c.mu.Unlock()
	parent := c.head().block.Header
	if b.Header.ParentHash != parent.Hash() {
		return fmt.Errorf("%w: block %d extends %x, not the head %x", ErrUnknownParent, b.Height(), b.Header.ParentHash, parent.Hash())
	}
	if err := c.verifyHeaderFields(b.Header, parent); err != nil {
		return err
	}
	if err := verifyBody(b); err != nil {
		return err
	}
	mark := c.state.Mark()
	defer c.state.RevertTo(mark)
	if err := c.applyBlock(c.state, b); err != nil {
		return fmt.Errorf("check block %d: %w", b.Height(), err)
	}
	return nil
}
