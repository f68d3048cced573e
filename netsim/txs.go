package netsim

import (
	"crypto/ecdsa"
	"encoding/binary"
	"fmt"
	"math/big"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/testnet"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Transactions in the simulation are real signed transfers (EIP-1559, one
// wei each) from a fixed set of funded senders. They arrive at random nodes
// as a Poisson process, enter each node's real mempool (which checks the
// signature, nonce, balance and fee against that node's head state) and
// travel like blocks; a miner fills its block from its own mempool, best tip
// first, up to the block size, and every node executes them on import. This
// costs real CPU at every node for every transaction, so it suits runs of
// tens of nodes or modest rates; the simulated block payload
// (Config.BlockSize without TxRate) is what stands for full blocks at scale.

// txSenders is how many funded accounts send the transactions, in turn:
// enough that a sender rarely has two transactions in flight.
const txSenders = 1024

// minTxBlock is the smallest block size that runs with transactions:
// room for several transfers of about 115 bytes.
const minTxBlock = 1000

// txSink receives every simulated transfer.
var txSink = common.HexToAddress("0x000000000000000000000000000000000051a7")

// txInfo is a transaction the simulation made.
type txInfo struct {
	tx  *types.Transaction
	rec int // index in the records' Txs
}

// txSource makes the transactions: one key and the next nonce per sender.
type txSource struct {
	keys   []*ecdsa.PrivateKey
	nonces []uint64
	next   int // the sender of the next transaction
}

// newTxSource derives the senders' keys from the seed and funds them in g.
func newTxSource(seed uint64, g *chain.Genesis) (*txSource, error) {
	src := &txSource{nonces: make([]uint64, txSenders)}
	funds := new(big.Int).Lsh(big.NewInt(1), 100)
	for i := range txSenders {
		var buf [16]byte
		binary.BigEndian.PutUint64(buf[:8], seed)
		binary.BigEndian.PutUint64(buf[8:], uint64(i))
		key, err := crypto.ToECDSA(crypto.Keccak256(buf[:]))
		if err != nil {
			return nil, fmt.Errorf("sender key %d: %w", i, err)
		}
		src.keys = append(src.keys, key)
		g.Alloc[crypto.PubkeyToAddress(key.PublicKey)] = chain.GenesisAccount{Balance: chain.NewBigInt(funds)}
	}
	return src, nil
}

// sign makes the next sender's next transfer.
func (src *txSource) sign(g *chain.Genesis) *types.Transaction {
	i := src.next
	src.next = (src.next + 1) % len(src.keys)
	tip := big.NewInt(1e9)
	tx, err := types.SignNewTx(src.keys[i], g.Signer(), &types.DynamicFeeTx{
		ChainID: new(big.Int).SetUint64(g.ChainID), Nonce: src.nonces[i], GasTipCap: tip,
		GasFeeCap: new(big.Int).Add(new(big.Int).Mul(g.BaseFee.Big(), big.NewInt(2)), tip),
		Gas:       chain.TransferGas, To: &txSink, Value: big.NewInt(1),
	})
	if err != nil {
		panic("netsim: sign a transfer: " + err.Error()) // a valid key and a fixed transaction
	}
	src.nonces[i]++
	return tx
}

// scheduleTx draws the time until the next transaction arrives.
func (s *sim) scheduleTx() {
	wait := time.Duration(s.rng.ExpFloat64() / s.cfg.TxRate * float64(time.Second))
	s.clk.AfterFunc(wait, func() {
		if s.stopped {
			return
		}
		s.newTx()
		s.scheduleTx()
	})
}

// newTx makes a transaction arrive at a random running node.
func (s *sim) newTx() {
	start := s.rng.IntN(len(s.nodes))
	for k := range s.nodes {
		n := s.nodes[(start+k)%len(s.nodes)]
		if n.down {
			continue
		}
		tx := s.txSrc.sign(s.genesis)
		s.txs[tx.Hash()] = &txInfo{tx: tx, rec: len(s.rec.Txs)}
		s.rec.Txs = append(s.rec.Txs, testnet.TxRec{Hash: tx.Hash(), Node: n.id, SentMs: s.clk.Now().UnixMilli()})
		s.arrive(n, &delivery{tx: tx, from: -1})
		return
	}
}

// firstArrival marks the transaction or consensus message hash as seen by
// n and counts its arrival; it reports false if n had seen it already.
func (s *sim) firstArrival(n *node, hash common.Hash) bool {
	if n.txSeen[hash] {
		return false
	}
	n.txSeen[hash] = true
	s.received(n, hash)
	return true
}

// arriveTx is a transaction reaching n: n's mempool checks it and, if it
// admits it, n relays it.
func (s *sim) arriveTx(n *node, d *delivery) {
	if !s.firstArrival(n, d.tx.Hash()) {
		return
	}
	if err := n.pool.Add(d.tx); err != nil {
		return // e.g. a block n already has included it
	}
	s.relay(n, d)
}

// pickTxs is what n puts in its next block: its mempool's best pending
// transactions that fit in the block size.
func (s *sim) pickTxs(n *node) []*types.Transaction {
	if n.pool == nil {
		return nil
	}
	var out []*types.Transaction
	size := 0
	for _, tx := range n.pool.Pending() {
		if size+int(tx.Size()) > s.cfg.BlockSize {
			break
		}
		size += int(tx.Size())
		out = append(out, tx)
	}
	return out
}

// txBytes is the encoded size of txs.
func txBytes(txs []*types.Transaction) int {
	n := 0
	for _, tx := range txs {
		n += int(tx.Size())
	}
	return n
}

// recordInclusion fills in, for every transaction, the block of the best
// final chain that includes it.
func (s *sim) recordInclusion() {
	if len(s.txs) == 0 {
		return
	}
	best := s.nodes[0].chain
	for _, n := range s.nodes[1:] {
		if n.chain.HeadWeight().Cmp(best.HeadWeight()) > 0 {
			best = n.chain
		}
	}
	for h := best.CurrentHeader().Hash(); ; {
		bi := s.blocks[h]
		if bi == nil {
			return // genesis
		}
		for _, tx := range bi.block.Txs {
			ti := s.txs[tx.Hash()]
			if ti == nil {
				continue // a validator's vote or evidence
			}
			rec := &s.rec.Txs[ti.rec]
			hash := h
			rec.Block, rec.Height = &hash, bi.block.Height()
		}
		h = bi.block.Header.ParentHash
	}
}

// txGasLimit is a block gas limit high enough that the block size, not
// gas, bounds how many transfers a block holds (a signed transfer is more
// than 100 bytes).
func txGasLimit(blockSize int) uint64 {
	return max(30_000_000, chain.TransferGas*uint64(blockSize/100+1))
}
