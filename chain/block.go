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

// MaxProofSize bounds a block's proof (Block.Proof).
const MaxProofSize = 64 << 10

// Block is a header, its transactions and its consensus body.
type Block struct {
	Header *Header
	Txs    []*types.Transaction
	// Consensus is the engine's body (proof of stake: votes and evidence),
	// opaque to the chain, committed to by Header.ConsensusRoot and applied
	// by the engine's BodyTransition. Empty for engines without one.
	Consensus []byte
	// Proof is engine data outside the block's hash that shows the block
	// final (BFT: the commit its node has, CometBFT's seen commit), stored
	// beside the block and sent with it; one block may come with different
	// proofs from different nodes. Checked on import by the engine's
	// ProofVerifier; empty for engines without one.
	Proof []byte
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
	Proof     []byte `rlp:"optional"`
}

// MarshalBinary encodes the block as RLP [header bytes, [tx, ...]], followed
// by the consensus body and the proof when they are not empty: a block
// without them encodes as blocks did before consensus bodies.
func (b *Block) MarshalBinary() ([]byte, error) {
	hb, err := b.Header.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if len(b.Consensus) > MaxConsensusSize {
		return nil, fmt.Errorf("encode block: consensus body of %d bytes exceeds %d", len(b.Consensus), MaxConsensusSize)
	}
	if len(b.Proof) > MaxProofSize {
		return nil, fmt.Errorf("encode block: proof of %d bytes exceeds %d", len(b.Proof), MaxProofSize)
	}
	return rlp.EncodeToBytes(blockRLP{Header: hb, Txs: b.Txs, Consensus: b.Consensus, Proof: b.Proof})
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
	if len(dec.Proof) > MaxProofSize {
		return fmt.Errorf("decode block: proof of %d bytes exceeds %d", len(dec.Proof), MaxProofSize)
	}
	h := new(Header)
	if err := h.UnmarshalBinary(dec.Header); err != nil {
		return fmt.Errorf("decode block: %w", err)
	}
	b.Header, b.Txs, b.Consensus, b.Proof = h, dec.Txs, nil, nil
	if len(dec.Consensus) > 0 {
		b.Consensus = dec.Consensus
	}
	if len(dec.Proof) > 0 {
		b.Proof = dec.Proof
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
