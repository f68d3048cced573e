package rpc

import (
	"context"
	"strconv"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

func (a *api) netMethods() map[string]any {
	return map[string]any{
		"web3_clientVersion": func(context.Context) (string, error) { return a.Version, nil },
		"web3_sha3": func(_ context.Context, data hexutil.Bytes) (hexutil.Bytes, error) {
			return crypto.Keccak256(data), nil
		},
		"net_version": func(context.Context) (string, error) {
			return strconv.FormatUint(a.Chain.Genesis().ChainID, 10), nil
		},
		"net_listening": func(context.Context) (bool, error) { return true, nil },
		"net_peerCount": func(context.Context) (hexutil.Uint, error) {
			if a.Network == nil {
				return 0, nil
			}
			return hexutil.Uint(a.Network.PeerCount()), nil
		},
	}
}
