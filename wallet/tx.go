package wallet

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Caller makes JSON-RPC calls; rpc.Client satisfies it.
type Caller interface {
	Call(ctx context.Context, result any, method string, params ...any) error
}

// TransferGas is the gas of a value transfer.
const TransferGas = 21000

// Transfer describes a value transfer to sign.
type Transfer struct {
	ChainID *big.Int
	Nonce   uint64
	To      common.Address
	Value   *big.Int
	TipCap  *big.Int // max priority fee per gas (EIP-1559)
	FeeCap  *big.Int // max fee per gas; for Legacy, the gas price
	Legacy  bool     // sign an EIP-155 legacy transaction instead of EIP-1559
}

// Sign builds and signs the transaction.
func (t Transfer) Sign(key *ecdsa.PrivateKey) (*types.Transaction, error) {
	var data types.TxData
	if t.Legacy {
		data = &types.LegacyTx{Nonce: t.Nonce, GasPrice: t.FeeCap, Gas: TransferGas, To: &t.To, Value: t.Value}
	} else {
		data = &types.DynamicFeeTx{ChainID: t.ChainID, Nonce: t.Nonce, GasTipCap: t.TipCap, GasFeeCap: t.FeeCap,
			Gas: TransferGas, To: &t.To, Value: t.Value}
	}
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(t.ChainID), data)
	if err != nil {
		return nil, fmt.Errorf("sign transfer: %w", err)
	}
	return tx, nil
}

// SendOptions are the optional parts of Send.
type SendOptions struct {
	TipCap *big.Int // nil: the node's eth_maxPriorityFeePerGas
	Legacy bool
}

// Send fills in chain id, nonce and fees from the node, signs a transfer of
// value from key to to, and submits it. It returns the signed transaction.
func Send(ctx context.Context, c Caller, key *ecdsa.PrivateKey, to common.Address, value *big.Int, opts SendOptions) (*types.Transaction, error) {
	from := crypto.PubkeyToAddress(key.PublicKey)
	var chainID, nonce hexutil.Uint64
	if err := c.Call(ctx, &chainID, "eth_chainId"); err != nil {
		return nil, fmt.Errorf("chain id: %w", err)
	}
	if err := c.Call(ctx, &nonce, "eth_getTransactionCount", from, "pending"); err != nil {
		return nil, fmt.Errorf("nonce of %s: %w", from.Hex(), err)
	}
	var head struct {
		BaseFee *hexutil.Big `json:"baseFeePerGas"`
	}
	if err := c.Call(ctx, &head, "eth_getBlockByNumber", "latest", false); err != nil {
		return nil, fmt.Errorf("latest block: %w", err)
	}
	tip := opts.TipCap
	if tip == nil {
		var t hexutil.Big
		if err := c.Call(ctx, &t, "eth_maxPriorityFeePerGas"); err != nil {
			return nil, fmt.Errorf("priority fee: %w", err)
		}
		tip = t.ToInt()
	}
	baseFee := new(big.Int)
	if head.BaseFee != nil {
		baseFee = head.BaseFee.ToInt()
	}
	t := Transfer{
		ChainID: new(big.Int).SetUint64(uint64(chainID)), Nonce: uint64(nonce), To: to, Value: value,
		TipCap: tip, FeeCap: new(big.Int).Add(new(big.Int).Mul(baseFee, big.NewInt(2)), tip), Legacy: opts.Legacy,
	}
	if opts.Legacy {
		t.FeeCap = new(big.Int).Add(baseFee, tip)
	}
	tx, err := t.Sign(key)
	if err != nil {
		return nil, err
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode transaction: %w", err)
	}
	var hash common.Hash
	if err := c.Call(ctx, &hash, "eth_sendRawTransaction", hexutil.Bytes(raw)); err != nil {
		return nil, fmt.Errorf("send transaction: %w", err)
	}
	if hash != tx.Hash() {
		return nil, fmt.Errorf("node answered hash %s for transaction %s", hash.Hex(), tx.Hash().Hex())
	}
	return tx, nil
}

// WaitReceipt polls for hash's receipt until it exists or ctx ends, and
// returns it as the node sent it.
func WaitReceipt(ctx context.Context, c Caller, hash common.Hash, poll time.Duration) (json.RawMessage, error) {
	t := time.NewTicker(poll) // wall-clock: polling a node, a process with a clock of its own
	defer t.Stop()
	for {
		var r json.RawMessage
		if err := c.Call(ctx, &r, "eth_getTransactionReceipt", hash); err != nil {
			return nil, err
		}
		if len(r) > 0 && string(r) != "null" {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for receipt of %s: %w", hash.Hex(), ctx.Err())
		case <-t.C:
		}
	}
}

// units in the order ParseAmount tries them as suffixes ("gwei" before "wei").
var units = []struct {
	name string
	wei  *big.Int
}{
	{"gwei", big.NewInt(1e9)},
	{"ether", big.NewInt(1e18)},
	{"eth", big.NewInt(1e18)},
	{"wei", big.NewInt(1)},
}

// ParseAmount reads an amount such as "1.5eth", "20gwei", "1000" (wei) or
// "0x3e8" (wei).
func ParseAmount(s string) (*big.Int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(s, "0x") {
		v, err := hexutil.DecodeBig(s)
		if err != nil {
			return nil, fmt.Errorf("amount %q: %w", s, err)
		}
		return v, nil
	}
	unit := big.NewInt(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.name) {
			unit, s = u.wei, strings.TrimSpace(strings.TrimSuffix(s, u.name))
			break
		}
	}
	if i := strings.IndexAny(s, "ep"); i >= 0 {
		// big.Rat would build 10^exp in full: bound it before parsing (no
		// amount of wei has more than 78 digits).
		if exp, err := strconv.Atoi(s[i+1:]); err != nil || exp < -maxAmountExponent || exp > maxAmountExponent {
			return nil, fmt.Errorf("amount %q: the exponent must be a whole number between -%d and %d", s, maxAmountExponent, maxAmountExponent)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 {
		return nil, fmt.Errorf("amount %q: want a non-negative number with an optional unit (wei, gwei, eth)", s)
	}
	r.Mul(r, new(big.Rat).SetInt(unit))
	if !r.IsInt() {
		return nil, errors.New("amount " + s + ": not a whole number of wei")
	}
	if r.Num().BitLen() > 256 {
		return nil, fmt.Errorf("amount %q: more than 2^256 wei", s)
	}
	return r.Num(), nil
}

// maxAmountExponent bounds the exponent of an amount like 1.5e18.
const maxAmountExponent = 100
