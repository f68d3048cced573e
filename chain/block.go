package chain

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/trie"
)

// MaxBlockSize bounds the encoding of a block (header and body).
const MaxBlockSize = 8 << 20

// MaxConsensusSize bounds a block's consensus body.
const MaxConsensusSize = 1 << 20

// Block is a header, its transactions and its consensus body.
type Block struct {
	Header *Header
	Txs    []*types.Transaction
	// Consensus is the engine's body (proof of stake: votes and evidence),
	// opaque to the chain, committed to by Header.ConsensusRoot and applied
	// by the engine's BodyTransition. Empty for engines without one.
	Consensus []byte
}

// Hash is the header hash.
func (b *Block) Hash() common.Hash { return b.Header.Hash() }

// Height is the header height.
func (b *Block) Height() uint64 { return b.Header.Height }

// TxRoot computes the Ethereum transactions-trie root of txs, so that
// Ethereum clients can check a block body against its header.
func TxRoot(txs []*types.Transaction) common.Hash {
	return types.DeriveSha(types.Transactions(txs), trie.NewStackTrie(nil))
}

// ConsensusBodyRoot is the header's commitment to a consensus body: keccak256
// of it, or the zero hash for an empty body.
func ConsensusBodyRoot(body []byte) common.Hash {
	if len(body) == 0 {
		return common.Hash{}
	}
	return crypto.Keccak256Hash(body)
}

type blockRLP struct {
	Header    []byte
	Txs       []*types.Transaction
	Consensus []byte `rlp:"optional"`
}

// MarshalBinary encodes the block as RLP [header bytes, [tx, ...]], followed
// by the consensus body when it is not empty: a block without one encodes as
// blocks did before consensus bodies.
func (b *Block) MarshalBinary() ([]byte, error) {
	hb, err := b.Header.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if len(b.Consensus) > MaxConsensusSize {
		return nil, fmt.Errorf("encode block: consensus body of %d bytes exceeds %d", len(b.Consensus), MaxConsensusSize)
	}
	return rlp.EncodeToBytes(blockRLP{Header: hb, Txs: b.Txs, Consensus: b.Consensus})
}

// UnmarshalBinary decodes a block written by MarshalBinary.
func (b *Block) UnmarshalBinary(data []byte) error {
	if len(data) > MaxBlockSize {
		return fmt.Errorf("decode block: %d bytes exceeds the %d-byte limit", len(data), MaxBlockSize)
	}
	var dec blockRLP
	if err := rlp.DecodeBytes(data, &dec); err != nil {
		return fmt.Errorf("decode block: %w", err)
	}
	if len(dec.Consensus) > MaxConsensusSize {
		return fmt.Errorf("decode block: consensus body of %d bytes exceeds %d", len(dec.Consensus), MaxConsensusSize)
	}
	h := new(Header)
	if err := h.UnmarshalBinary(dec.Header); err != nil {
		return fmt.Errorf("decode block: %w", err)
	}
	b.Header, b.Txs, b.Consensus = h, dec.Txs, nil
	if len(dec.Consensus) > 0 {
		b.Consensus = dec.Consensus
	}
	return nil
}

func encodeTxs(txs []*types.Transaction) ([]byte, error) {
	return rlp.EncodeToBytes(txs)
}

func decodeTxs(data []byte) ([]*types.Transaction, error) {
	var txs []*types.Transaction
	if err := rlp.DecodeBytes(data, &txs); err != nil {
		return nil, err
	}
	return txs, nil
}
