package node

import (
	"path/filepath"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/pos"
	"github.com/ethereum/go-ethereum/core/types"
)

// SlasherDir is the slasher's database inside a data directory.
func SlasherDir(dataDir string) string { return filepath.Join(dataDir, pos.SlasherDir) }

// seenHeader is p2p's SeenHeader: the validator's slasher (with a validator
// key) sees every header a peer sends, before the chain decides on its
// block, so that a block refused for reverting the finalized checkpoint,
// or waiting for its parent, is still looked at. The validator is set
// before p2p starts.
func (n *Node) seenHeader(h *chain.Header) {
	if n.validator != nil {
		n.validator.ObserveHeader(h)
	}
}

// seenTxs is p2p's SeenTxs: the validator's slasher sees the votes among
// the transactions of every block a peer sends and every transaction a
// peer relays, whatever the chain or the pool then make of them (a vote
// from the other side of a healed partition whose nonce this side used
// never reaches the pool).
func (n *Node) seenTxs(txs []*types.Transaction) {
	if n.validator != nil {
		n.validator.ObserveTxs(txs)
	}
}
