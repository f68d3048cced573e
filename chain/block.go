package chain

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/trie"
)

// MaxBlockSize bounds the encoding of a block (header and body).
const MaxBlockSize = 8 << 20

// Block is a header and its transactions.
type Block struct {
	Header *Header
	Txs    []*types.Transaction
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

type blockRLP struct {
	Header []byte
	Txs    []*types.Transaction
}

// MarshalBinary encodes the block as RLP [header bytes, [tx, ...]].
func (b *Block) MarshalBinary() ([]byte, error) {
	hb, err := b.Header.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return rlp.EncodeToBytes(blockRLP{Header: hb, Txs: b.Txs})
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
	h := new(Header)
	if err := h.UnmarshalBinary(dec.Header); err != nil {
		return fmt.Errorf("decode block: %w", err)
	}
	b.Header, b.Txs = h, dec.Txs
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
