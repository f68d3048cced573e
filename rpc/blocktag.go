package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// BlockRef names a block in a request: a tag ("latest", "earliest",
// "pending", "safe", "finalized"), a hex number, or an EIP-1898 object
// {"blockNumber": ...} / {"blockHash": ...}.
type BlockRef struct {
	Tag    string
	Number uint64
	Hash   *common.Hash
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *BlockRef) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '{' {
		var obj struct {
			BlockNumber *json.RawMessage `json:"blockNumber"`
			BlockHash   *common.Hash     `json:"blockHash"`
		}
		if err := json.Unmarshal(data, &obj); err != nil {
			return err
		}
		switch {
		case obj.BlockHash != nil && obj.BlockNumber != nil:
			return errors.New("block reference: give blockHash or blockNumber, not both")
		case obj.BlockHash != nil:
			r.Hash = obj.BlockHash
			return nil
		case obj.BlockNumber != nil:
			return r.UnmarshalJSON(*obj.BlockNumber)
		}
		return errors.New("block reference: empty object")
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("block reference: want a tag or a hex number, got %s", data)
	}
	switch s {
	case "latest", "earliest", "pending", "safe", "finalized":
		r.Tag = s
		return nil
	}
	if len(s) == 66 && strings.HasPrefix(s, "0x") { // a bare block hash, as some clients send
		h := common.HexToHash(s)
		r.Hash = &h
		return nil
	}
	n, err := hexutil.DecodeUint64(s)
	if err != nil {
		return fmt.Errorf("block reference %q: %w", s, err)
	}
	r.Number = n
	return nil
}

// errNoFinality answers "safe" and "finalized" on chains that finalize nothing.
var errNoFinality = errors.New("this chain finalizes no block (proof of work is probabilistic)")

// resolve finds the block r names. A nil ref means "latest". It returns
// chain.ErrNotFound for a block that does not exist.
func (a *api) resolve(r *BlockRef) (*chain.Block, error) {
	return resolveRef(a, r, a.Chain.Head, a.Chain.BlockByHash, a.Chain.BlockByHeight)
}

// resolveHeader finds the header of the block r names, as resolve does,
// without reading the block's body: what a state read at a block needs.
func (a *api) resolveHeader(r *BlockRef) (*chain.Header, error) {
	return resolveRef(a, r, a.Chain.CurrentHeader, a.Chain.HeaderByHash, a.Chain.HeaderByHeight)
}

// resolveRef finds what r names with the chain's readers of blocks or of
// headers: head for "latest", byHash and byHeight for the rest.
func resolveRef[T any](a *api, r *BlockRef, head func() T, byHash func(common.Hash) (T, error), byHeight func(uint64) (T, error)) (T, error) {
	if r == nil {
		return head(), nil
	}
	if r.Hash != nil {
		return byHash(*r.Hash)
	}
	switch r.Tag {
	case "latest", "pending":
		return head(), nil
	case "earliest":
		return byHeight(0)
	case "safe", "finalized":
		finalized, safe, ok := a.Chain.Finality()
		if !ok {
			var none T
			return none, errNoFinality
		}
		h := finalized
		if r.Tag == "safe" {
			h = safe
		}
		if h == (common.Hash{}) {
			return byHeight(0) // nothing finalized yet: genesis is final by definition
		}
		return byHash(h)
	}
	return byHeight(r.Number)
}
