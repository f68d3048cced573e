package rpc

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// maxProofSlots bounds the storage slots one eth_getProof call proves.
const maxProofSlots = 256

// accountProof is eth_getProof's answer (EIP-1186).
type accountProof struct {
	Address      common.Address  `json:"address"`
	AccountProof []hexutil.Bytes `json:"accountProof"`
	Balance      *hexutil.Big    `json:"balance"`
	CodeHash     common.Hash     `json:"codeHash"`
	Nonce        hexutil.Uint64  `json:"nonce"`
	StorageHash  common.Hash     `json:"storageHash"`
	StorageProof []slotProof     `json:"storageProof"`
}

type slotProof struct {
	Key   hexutil.Bytes   `json:"key"`
	Value *hexutil.Big    `json:"value"`
	Proof []hexutil.Bytes `json:"proof"`
}

// getProof answers eth_getProof: addr's account and the named storage
// slots after a canonical block, with the Merkle proofs of each against the
// block's stateRoot. Accounts other than the engine's records account have
// empty storage: their slots are proved empty.
func (a *api) getProof(_ context.Context, addr common.Address, keys []hexutil.Bytes, ref *BlockRef) (*accountProof, error) {
	if len(keys) > maxProofSlots {
		return nil, invalidParams("%d storage keys, at most %d", len(keys), maxProofSlots)
	}
	slots := make([]common.Hash, len(keys))
	for i, k := range keys {
		if len(k) > common.HashLength {
			return nil, invalidParams("storage key %d is %d bytes, at most 32", i, len(k))
		}
		slots[i] = common.BytesToHash(k)
	}
	b, err := a.resolve(ref)
	if err != nil {
		return nil, blockError(err)
	}
	if !a.Chain.IsCanonical(b.Hash()) {
		return nil, fmt.Errorf("block %x is not on the canonical chain; state is kept for canonical blocks only", b.Hash())
	}
	p, err := a.Chain.ProveAccount(addr, slots, b.Height())
	if err != nil {
		return nil, err
	}
	out := &accountProof{
		Address: addr, AccountProof: bytesList(p.AccountPath), Balance: (*hexutil.Big)(p.Account.Balance.ToBig()),
		CodeHash: common.BytesToHash(p.Account.CodeHash), Nonce: hexutil.Uint64(p.Account.Nonce),
		StorageHash: p.Account.Root, StorageProof: make([]slotProof, len(p.Slots)),
	}
	for i, s := range p.Slots {
		out.StorageProof[i] = slotProof{Key: keys[i], Value: (*hexutil.Big)(new(big.Int).SetBytes(s.Value)), Proof: bytesList(s.Path)}
	}
	return out, nil
}

func bytesList(nodes [][]byte) []hexutil.Bytes {
	out := make([]hexutil.Bytes, len(nodes))
	for i, n := range nodes {
		out[i] = n
	}
	return out
}
