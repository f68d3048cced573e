package loadgen

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/chaind/chaind/rpc"
	"github.com/chaind/chaind/wallet"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// FundSenders pays every key enough for txs transfers in all, waits until
// the payments are mined, and returns the node's chain id. funder signs the
// payments; with funder nil the node's first account (eth_accounts, as
// geth --dev unlocks it) pays through eth_sendTransaction.
func FundSenders(url string, funder *ecdsa.PrivateKey, keys []*ecdsa.PrivateKey, txs int) (*big.Int, error) {
	c := rpc.NewClient(url)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var id hexutil.Uint64
	if err := c.Call(ctx, &id, "eth_chainId"); err != nil {
		return nil, err
	}
	each := new(big.Int).Mul(big.NewInt(int64(2*txs/len(keys)+10)), big.NewInt(1e15))
	pay := func(to common.Address) (common.Hash, error) {
		tx, err := wallet.Send(ctx, c, funder, to, each, wallet.SendOptions{})
		if err != nil {
			return common.Hash{}, err
		}
		return tx.Hash(), nil
	}
	if funder == nil {
		var accounts []common.Address
		if err := c.Call(ctx, &accounts, "eth_accounts"); err != nil {
			return nil, fmt.Errorf("fund senders: %w", err)
		}
		if len(accounts) == 0 {
			return nil, errors.New("fund senders: the node has no account of its own (eth_accounts is empty): give a funded key")
		}
		pay = func(to common.Address) (common.Hash, error) {
			var h common.Hash
			err := c.Call(ctx, &h, "eth_sendTransaction", map[string]any{"from": accounts[0], "to": to, "value": (*hexutil.Big)(each)})
			return h, err
		}
	}
	var last common.Hash
	for _, k := range keys {
		var err error
		// The funder's account may also send on its own (a PoS dev node's
		// validator votes from it), so a nonce read just before can be taken
		// by the time the payment arrives: read it again and retry.
		for try := 0; try < 5; try++ {
			if last, err = pay(crypto.PubkeyToAddress(k.PublicKey)); !nonceTaken(err) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			return nil, fmt.Errorf("fund senders: %w", err)
		}
	}
	if _, err := wallet.WaitReceipt(ctx, c, last, 200*time.Millisecond); err != nil {
		return nil, err
	}
	return new(big.Int).SetUint64(uint64(id)), nil
}

// nonceTaken reports whether err says that the payment's nonce was used by
// another transaction in the meantime.
func nonceTaken(err error) bool {
	var e *rpc.Error
	return errors.As(err, &e) && (strings.Contains(e.Message, "replacement transaction underpriced") ||
		strings.Contains(e.Message, "nonce too low") || strings.Contains(e.Message, "already known"))
}
