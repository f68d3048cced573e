package rpc

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// txArgs is the transaction object of eth_sendTransaction and
// eth_signTransaction: what is left out is filled in as geth does.
type txArgs struct {
	callArgs
	Nonce   *hexutil.Uint64 `json:"nonce"`
	ChainID *hexutil.Big    `json:"chainId"`
}

func (a *api) accountMethods() map[string]any {
	return map[string]any{
		"eth_accounts":        a.accounts,
		"eth_sendTransaction": a.sendTransaction,
		"eth_signTransaction": a.signTransaction,
		"eth_sign":            a.sign,
	}
}

// accounts lists the unlocked accounts: a dev chain's, none elsewhere.
func (a *api) accounts(context.Context) ([]common.Address, error) {
	out := make([]common.Address, len(a.Keys))
	for i, k := range a.Keys {
		out[i] = crypto.PubkeyToAddress(k.PublicKey)
	}
	return out, nil
}

// key is the unlocked key of addr, for method.
func (a *api) key(method string, addr common.Address) (*ecdsa.PrivateKey, error) {
	if len(a.Keys) == 0 {
		return nil, newError(CodeServerError, KindUnsupported, method+" needs an unlocked account; this node holds none (start with --dev)")
	}
	for _, k := range a.Keys {
		if crypto.PubkeyToAddress(k.PublicKey) == addr {
			return k, nil
		}
	}
	return nil, newError(CodeServerError, KindNotFound, fmt.Sprintf("unknown account %s: %s signs for the accounts eth_accounts lists only", addr.Hex(), method))
}

func (a *api) sendTransaction(_ context.Context, args txArgs) (common.Hash, error) {
	tx, err := a.signArgs("eth_sendTransaction", &args)
	if err != nil {
		return common.Hash{}, err
	}
	if err := a.Pool.Add(tx); err != nil {
		return common.Hash{}, txError(err)
	}
	return tx.Hash(), nil
}

// signTransaction answers the signed transaction's encoding, as the
// Ethereum JSON-RPC specification and anvil do (geth wraps it in an
// object with the decoded transaction).
func (a *api) signTransaction(_ context.Context, args txArgs) (hexutil.Bytes, error) {
	tx, err := a.signArgs("eth_signTransaction", &args)
	if err != nil {
		return nil, err
	}
	return tx.MarshalBinary()
}

// sign signs keccak256("\x19Ethereum Signed Message:\n" + len(data) + data)
// (EIP-191) with addr's key; v is 27 or 28.
func (a *api) sign(_ context.Context, addr common.Address, data hexutil.Bytes) (hexutil.Bytes, error) {
	key, err := a.key("eth_sign", addr)
	if err != nil {
		return nil, err
	}
	sig, err := crypto.Sign(accounts.TextHash(data), key)
	if err != nil {
		return nil, err
	}
	sig[crypto.RecoveryIDOffset] += 27
	return sig, nil
}

// signArgs fills in what args leave out and signs the transaction with the
// sender's key: the nonce after the sender's pending ones, 21000 gas, and
// fees as geth fills them (a legacy transaction when gasPrice is given,
// else EIP-1559 with the suggested tip and twice the base fee plus the tip
// as the cap).
func (a *api) signArgs(method string, args *txArgs) (*types.Transaction, error) {
	if args.From == nil {
		return nil, invalidParams("%s: from is required", method)
	}
	key, err := a.key(method, *args.From)
	if err != nil {
		return nil, err
	}
	g := a.Chain.Genesis()
	if args.ChainID != nil && args.ChainID.ToInt().Cmp(new(big.Int).SetUint64(g.ChainID)) != 0 {
		return nil, invalidParams("chainId %v: this chain's is %d", args.ChainID.ToInt(), g.ChainID)
	}
	if args.Data != nil && args.Input != nil && string(*args.Data) != string(*args.Input) {
		return nil, invalidParams("both data and input are given, and they differ")
	}
	data := args.Input
	if data == nil {
		data = args.Data
	}
	var input []byte
	if data != nil {
		input = *data
	}
	nonce := a.Pool.PendingNonce(*args.From)
	if args.Nonce != nil {
		nonce = uint64(*args.Nonce)
	}
	gas := uint64(chain.TransferGas)
	if args.Gas != nil {
		gas = uint64(*args.Gas)
	}
	value := new(big.Int)
	if args.Value != nil {
		value = args.Value.ToInt()
	}
	var txData types.TxData
	if args.GasPrice != nil {
		if args.MaxFeePerGas != nil || args.MaxPriorityFeePerGas != nil {
			return nil, invalidParams("both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified")
		}
		txData = &types.LegacyTx{Nonce: nonce, GasPrice: args.GasPrice.ToInt(), Gas: gas, To: args.To, Value: value, Data: input}
	} else {
		tip := a.suggestTip()
		if args.MaxPriorityFeePerGas != nil {
			tip = args.MaxPriorityFeePerGas.ToInt()
		}
		feeCap := new(big.Int).Add(new(big.Int).Mul(g.BaseFee.Big(), big.NewInt(2)), tip)
		if args.MaxFeePerGas != nil {
			feeCap = args.MaxFeePerGas.ToInt()
		}
		if feeCap.Cmp(tip) < 0 {
			return nil, invalidParams("maxFeePerGas (%v) < maxPriorityFeePerGas (%v)", feeCap, tip)
		}
		txData = &types.DynamicFeeTx{ChainID: new(big.Int).SetUint64(g.ChainID), Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap,
			Gas: gas, To: args.To, Value: value, Data: input}
	}
	tx, err := types.SignNewTx(key, g.Signer(), txData)
	if err != nil {
		return nil, fmt.Errorf("%s: sign: %w", method, err)
	}
	return tx, nil
}
