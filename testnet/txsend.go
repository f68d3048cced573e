package testnet

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"time"

	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/fault"
	"github.com/chaind/chaind/rpc"
	"github.com/chaind/chaind/wallet"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// txSender sends transfers from the funded account at a steady rate.
type txSender struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	nonce  *uint64
}

func (t *txSender) stop() {
	t.mu.Lock()
	cancel, done := t.cancel, t.done
	t.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// SendTxs sends count transfers at rate per second, round-robin over the
// live nodes, in the background. It refuses while a previous batch runs.
func (s *Supervisor) SendTxs(count int, rate float64) error {
	send := fault.Send{Count: count, Rate: rate}
	if err := send.Check(s.opts.Nodes); err != nil {
		return err
	}
	t := &s.txs
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done != nil {
		select {
		case <-t.done:
		default:
			return errors.New("send: a batch is still being sent")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel, t.done = cancel, make(chan struct{})
	s.rec.action(s.nowMs(), "%s", send)
	go func(done chan struct{}) {
		defer close(done)
		if err := s.sendLoop(ctx, count, rate); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Warn("Sending transactions stopped", "err", err)
		}
	}(t.done)
	return nil
}

func (s *Supervisor) sendLoop(ctx context.Context, count int, rate float64) error {
	from := crypto.PubkeyToAddress(s.funded.PublicKey)
	chainID := new(big.Int).SetUint64(s.genesis.ChainID)
	fee := new(big.Int).Mul(s.genesis.BaseFee.Big(), big.NewInt(3))
	interval := time.Duration(float64(time.Second) / rate)
	next := s.clock.Now()
	for k := 0; k < count; k++ {
		if err := clock.Sleep(ctx, s.clock, next.Sub(s.clock.Now())); err != nil {
			return err
		}
		next = next.Add(interval)
		node, c := s.liveClient(k)
		if c == nil {
			return errors.New("no live node")
		}
		if s.txs.nonce == nil {
			var n hexutil.Uint64
			if err := c.Call(ctx, &n, "eth_getTransactionCount", from, "pending"); err != nil {
				return err
			}
			v := uint64(n)
			s.txs.nonce = &v
		}
		tx, err := wallet.Transfer{ChainID: chainID, Nonce: *s.txs.nonce, To: common.BigToAddress(big.NewInt(int64(0xd0000 + k))),
			Value: big.NewInt(int64(k + 1)), TipCap: s.genesis.BaseFee.Big(), FeeCap: fee}.Sign(s.funded)
		if err != nil {
			return err
		}
		raw, _ := tx.MarshalBinary()
		sent := s.nowMs()
		if err := c.Call(ctx, nil, "eth_sendRawTransaction", hexutil.Bytes(raw)); err != nil {
			s.log.Debug("Transaction refused", "node", node, "err", err)
			s.txs.nonce = nil // ask again: the node may have been restarted with a shorter mempool
			continue
		}
		*s.txs.nonce++
		s.rec.mu.Lock()
		s.rec.Txs = append(s.rec.Txs, TxRec{Hash: tx.Hash(), Node: node, SentMs: sent})
		s.rec.mu.Unlock()
	}
	return nil
}

// liveClient picks a live node round-robin, starting at k.
func (s *Supervisor) liveClient(k int) (int, *rpc.Client) {
	for j := 0; j < s.opts.Nodes; j++ {
		i := (k + j) % s.opts.Nodes
		if p, _ := s.proc(i); p != nil && p.Alive() {
			return i, rpc.NewClient(p.RPCURL())
		}
	}
	return -1, nil
}
