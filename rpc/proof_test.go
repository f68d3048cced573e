package rpc_test

import (
	"bytes"
	"math/big"
	"testing"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb/memorydb"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/trie"
)

type getProofAnswer struct {
	Address      common.Address  `json:"address"`
	AccountProof []hexutil.Bytes `json:"accountProof"`
	Balance      *hexutil.Big    `json:"balance"`
	CodeHash     common.Hash     `json:"codeHash"`
	Nonce        hexutil.Uint64  `json:"nonce"`
	StorageHash  common.Hash     `json:"storageHash"`
	StorageProof []struct {
		Key   hexutil.Bytes   `json:"key"`
		Value *hexutil.Big    `json:"value"`
		Proof []hexutil.Bytes `json:"proof"`
	} `json:"storageProof"`
}

// verifyAccountProof checks p against root with go-ethereum's
// trie.VerifyProof and returns the account it proves (nil: proved absent).
func verifyAccountProof(root common.Hash, p getProofAnswer) (*types.StateAccount, error) {
	db := memorydb.New()
	for _, n := range p.AccountProof {
		db.Put(crypto.Keccak256(n), n)
	}
	v, err := trie.VerifyProof(root, crypto.Keccak256(p.Address[:]), db)
	if err != nil || v == nil {
		return nil, err
	}
	var a types.StateAccount
	if err := rlp.DecodeBytes(v, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// TestGetProofVerifiesAgainstTheStateRoot: eth_getProof's answers, at the
// head and at an old block, for present and absent accounts, verify with
// go-ethereum's trie.VerifyProof against the block's stateRoot and prove
// the balance and nonce the node reports; a proof with one node changed, or
// checked against another block's root, is refused.
func TestGetProofVerifiesAgainstTheStateRoot(t *testing.T) {
	n := newTestNode(t, nil)
	to := common.Address{0x77}
	old := n.mine(ct.Transfer(n.g, 0, 0, to, big.NewInt(5)))
	head := n.mine(ct.Transfer(n.g, 0, 1, to, big.NewInt(7)), ct.Transfer(n.g, 1, 0, to, big.NewInt(1)))
	cases := []struct {
		addr    common.Address
		block   string
		root    common.Hash
		balance *big.Int
		nonce   uint64
	}{
		{to, "latest", head.Header.StateRoot, big.NewInt(13), 0},
		{to, hexutil.EncodeUint64(old.Height()), old.Header.StateRoot, big.NewInt(5), 0},
		{ct.Addr(0), "latest", head.Header.StateRoot, n.c.Account(ct.Addr(0)).Balance, 2},
		{common.Address{0x99}, "latest", head.Header.StateRoot, nil, 0},
	}
	for _, c := range cases {
		var p getProofAnswer
		n.call(&p, "eth_getProof", c.addr, []string{"0x01"}, c.block)
		a, err := verifyAccountProof(c.root, p)
		if err != nil {
			t.Fatalf("%s at %s: proof does not verify: %v", c.addr.Hex(), c.block, err)
		}
		if c.balance == nil {
			if a != nil || p.Balance.ToInt().Sign() != 0 {
				t.Fatalf("%s: an absent account proved as %+v", c.addr.Hex(), a)
			}
		} else if a == nil || a.Balance.ToBig().Cmp(c.balance) != 0 || a.Nonce != c.nonce ||
			p.Balance.ToInt().Cmp(c.balance) != 0 || uint64(p.Nonce) != c.nonce {
			t.Fatalf("%s at %s: proved %+v, answered %v/%d, want %v/%d", c.addr.Hex(), c.block, a, p.Balance, p.Nonce, c.balance, c.nonce)
		}
		if p.StorageHash != types.EmptyRootHash || p.CodeHash != types.EmptyCodeHash ||
			len(p.StorageProof) != 1 || len(p.StorageProof[0].Proof) != 0 || p.StorageProof[0].Value.ToInt().Sign() != 0 {
			t.Fatalf("%s: storage %x, code %x, slots %+v; want empty", c.addr.Hex(), p.StorageHash, p.CodeHash, p.StorageProof)
		}
		if c.balance == nil {
			continue
		}
		if c.root != old.Header.StateRoot {
			if _, err := verifyAccountProof(old.Header.StateRoot, p); err == nil {
				t.Fatalf("%s: the head's proof verified against an older root", c.addr.Hex())
			}
		}
		for i := range p.AccountProof {
			tampered := p
			tampered.AccountProof = append([]hexutil.Bytes(nil), p.AccountProof...)
			tampered.AccountProof[i] = bytes.Clone(p.AccountProof[i])
			tampered.AccountProof[i][len(tampered.AccountProof[i])-1] ^= 1
			if a, err := verifyAccountProof(c.root, tampered); err == nil && a != nil && a.Balance.ToBig().Cmp(c.balance) == 0 {
				t.Fatalf("%s: a proof with node %d changed still proves the balance", c.addr.Hex(), i)
			}
		}
	}
	if e := n.callErr(-32602, "eth_getProof", to, []string{"0x" + string(bytes.Repeat([]byte("00"), 33))}, "latest"); e == nil {
		t.Fatal("a 33-byte storage key was accepted")
	}
}
