package node

import (
	"math/big"
	"path/filepath"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/pos"
)

// SlasherDir is the slasher's database inside a data directory.
func SlasherDir(dataDir string) string { return filepath.Join(dataDir, pos.SlasherDir) }

// observedChain is the chain as p2p sees it: every block and header a peer
// sends is shown to observe (the validator's slasher) before the chain
// decides on it, so that a block refused for reverting the finalized
// checkpoint, or waiting for its parent, is still looked at.
type observedChain struct {
	*chain.Chain
	observe func(*chain.Header)
}

func (c observedChain) InsertBlock(b *chain.Block) error {
	c.observe(b.Header)
	return c.Chain.InsertBlock(b)
}

func (c observedChain) VerifyHeaders(headers []*chain.Header) (*big.Int, error) {
	for _, h := range headers {
		c.observe(h)
	}
	return c.Chain.VerifyHeaders(headers)
}
