package main

import (
	"context"
	"errors"
	"math/big"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/p2ptest"
	"github.com/chaind/chaind/pow"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// hostilePeer speaks chaind's wire protocol to send bad data on purpose.
type hostilePeer struct {
	t *testing.T
	*p2ptest.Peer
}

// dialHostile connects to the node as the peer with key id; a refusal (a
// ban, no slot) is returned as an error with the node's reason.
func dialHostile(t *testing.T, addr string, g *chain.Genesis, id byte) (*hostilePeer, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	peer, err := p2ptest.Dial(ctx, p2p.TCP{}, addr, p2ptest.Key(int(id)), p2ptest.Hello(g, pow.New(1), new(big.Int)))
	var refused *p2ptest.Refused
	if errors.As(err, &refused) {
		return nil, errors.New(refused.Reason)
	} else if err != nil {
		t.Fatal(err)
	}
	return &hostilePeer{t: t, Peer: peer}, nil
}

// await reads until a message of type T arrives (answering pings, skipping
// announcements) and returns it.
func await[T p2p.Msg](h *hostilePeer) T {
	h.t.Helper()
	m, err := p2ptest.Await[T](h.Peer)
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

// disconnected waits for the node to hang up and returns the reason it gave.
func (h *hostilePeer) disconnected() string {
	h.t.Helper()
	reason, err := h.Disconnected()
	if err != nil {
		h.t.Fatalf("connection not closed by the node: %v", err)
	}
	return reason
}

// headBlock fetches the node's head block over the wire.
func (h *hostilePeer) headBlock() *chain.Block { return h.block(h.Them.Head) }

// block fetches the block with the given hash from the node.
func (h *hostilePeer) block(hash common.Hash) *chain.Block {
	h.t.Helper()
	if err := h.Send(&p2p.GetBlocks{ID: 77, Hashes: []common.Hash{hash}}); err != nil {
		h.t.Fatal(err)
	}
	resp := await[*p2p.Blocks](h)
	b := new(chain.Block)
	if len(resp.Blocks) != 1 || b.UnmarshalBinary(resp.Blocks[0]) != nil {
		h.t.Fatalf("no block %x", hash)
	}
	return b
}

// offer announces b and serves it when the node asks.
func (h *hostilePeer) offer(b *chain.Block) {
	h.t.Helper()
	enc, err := b.MarshalBinary()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.Send(&p2p.NewBlock{Hash: b.Hash(), Height: b.Height(), Weight: big.NewInt(1 << 40)}); err != nil {
		h.t.Fatal(err)
	}
	req := await[*p2p.GetBlocks](h)
	if err := h.Send(&p2p.Blocks{ID: req.ID, Blocks: [][]byte{enc}}); err != nil {
		h.t.Fatal(err)
	}
}

// childOf builds and seals (with real PoW) a block on parent, whose parent
// is grand; edit may spoil it before sealing.
func childOf(t *testing.T, g *chain.Genesis, grand, parent *chain.Block, txs []*types.Transaction, edit func(*chain.Header)) *chain.Block {
	t.Helper()
	h := &chain.Header{ParentHash: parent.Hash(), Height: parent.Height() + 1, Coinbase: common.Address{0xee},
		Time: max(uint64(time.Now().UnixMilli()), parent.Header.Time+1), TxRoot: chain.TxRoot(txs), ReceiptRoot: chain.ReceiptRoot(txs),
		GasLimit: g.GasLimit, BaseFee: g.BaseFee.Big(),
		GasUsed: uint64(len(txs)) * chain.TransferGas, StateRoot: common.Hash{0x5a}, Bits: pow.NextBits(g, grand.Header, parent.Header)}
	if edit != nil {
		edit(h)
	}
	b, err := pow.New(1).Seal(context.Background(), nil, &chain.Block{Header: h, Txs: txs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHostilePeer: a peer sends, one per connection, a block with a bad seal,
// one with a wrong state root, one with a forged signature, a frame over the
// limit and garbage. Each time it is disconnected with a reason; nothing it
// sent reaches the chain or the mempool, the node keeps mining, and a peer
// that offends twice is banned.
func TestHostilePeer(t *testing.T) {
	dir := t.TempDir()
	g, genesis := writeFastGenesis(t, dir, 1)
	honest := startChaind(t, nodeArgs(filepath.Join(dir, "honest"), genesis, mining...)...)
	poll.Until(t, 30*time.Second, "a few blocks", func() bool { return honest.head(t).Number >= 3 })

	forgedTo := common.Address{0xf0, 0x0d}
	var offered []common.Hash
	blockCase := func(spoil func(grand, parent *chain.Block) *chain.Block) func(h *hostilePeer) {
		return func(h *hostilePeer) {
			parent := h.headBlock()
			b := spoil(h.block(parent.Header.ParentHash), parent)
			offered = append(offered, b.Hash())
			h.offer(b)
		}
	}
	cases := []struct {
		name   string
		send   func(h *hostilePeer)
		reason string
	}{
		{"bad seal", blockCase(func(grand, parent *chain.Block) *chain.Block {
			b := childOf(t, g, grand, parent, nil, nil)
			target := chain.CompactToBig(b.Header.Bits)
			for value := pow.Value(b.Header); new(big.Int).SetBytes(value[:]).Cmp(target) <= 0; value = pow.Value(b.Header) {
				b.Header.Nonce++
			}
			return b
		}), "hash above target"},
		{"wrong state root", blockCase(func(grand, parent *chain.Block) *chain.Block {
			return childOf(t, g, grand, parent, nil, nil)
		}), "bad state root"},
		{"forged signature", blockCase(func(grand, parent *chain.Block) *chain.Block {
			signed := ct.Transfer(g, 0, 0, common.Address{1}, big.NewInt(1))
			v, r, s := signed.RawSignatureValues()
			sig := append(append(common.LeftPadBytes(r.Bytes(), 32), common.LeftPadBytes(s.Bytes(), 32)...), byte(v.Uint64()))
			forged, err := types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(1337), GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(3e9),
				Gas: chain.TransferGas, To: &forgedTo, Value: ct.Ether(500)}).WithSignature(g.Signer(), sig)
			if err != nil {
				t.Fatal(err)
			}
			return childOf(t, g, grand, parent, []*types.Transaction{forged}, nil)
		}), "invalid block"},
		{"malformed message", func(h *hostilePeer) {
			h.SendFrame([]byte{4 /* NewBlock */, 0xff, 0x01})
		}, "bad message"},
		{"garbage bytes under the encryption", func(h *hostilePeer) {
			junk := make([]byte, 256)
			rand.New(rand.NewSource(7)).Read(junk)
			h.Inject(junk)
		}, "frame failed authentication"},
	}
	// A node checks a block's state only when the block's branch would become
	// canonical (headers first, as Bitcoin does); a side block is stored
	// after its header and seal checks. So that the spoilt blocks extend the
	// head and meet every check, the miner pauses while each is offered and
	// must carry on mining afterwards.
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			honest.stopMining(t)
			defer honest.call(t, nil, "chaind_minerStart")
			before := honest.head(t)
			h, err := dialHostile(t, honest.p2p, g, byte(i))
			if err != nil {
				t.Fatalf("handshake refused: %v", err)
			}
			tc.send(h)
			if reason := h.disconnected(); !strings.Contains(reason, tc.reason) {
				t.Fatalf("disconnect reason %q, want it to mention %q", reason, tc.reason)
			}
			if after := honest.head(t); after.Hash != before.Hash || after.StateRoot != before.StateRoot {
				t.Fatalf("head moved from %+v to %+v", before, after)
			}
			honest.call(t, nil, "chaind_minerStart")
			poll.Until(t, 30*time.Second, "the node to keep mining", func() bool { return honest.head(t).Number > before.Number })
		})
	}
	for _, hash := range offered {
		var b map[string]any
		honest.call(t, &b, "eth_getBlockByHash", hash, false)
		if b != nil {
			t.Fatalf("refused block %s was stored", hash.Hex())
		}
	}
	var status map[string]hexutil.Uint
	honest.call(t, &status, "txpool_status")
	if status["pending"] != 0 || status["queued"] != 0 {
		t.Fatalf("mempool changed: %v", status)
	}
	var bal hexutil.Big
	honest.call(t, &bal, "eth_getBalance", forgedTo, "latest")
	if bal.ToInt().Sign() != 0 {
		t.Fatal("the forged transfer was credited")
	}
	// A second offence from the same node id bans it.
	h, err := dialHostile(t, honest.p2p, g, 0)
	if err == nil {
		h.SendFrame([]byte{250})
		h.disconnected()
		_, err = dialHostile(t, honest.p2p, g, 0)
	}
	if err == nil || !strings.Contains(err.Error(), "banned") {
		t.Fatalf("repeat offender not banned: %v", err)
	}
}
