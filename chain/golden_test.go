package chain

import (
	"bytes"
	"encoding/hex"
	"flag"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite chain/testdata/*.golden from the current encoding")

// goldenPoWBlock is a proof-of-work block with two transactions and a block
// with none, fixed field by field.
func goldenPoWBlocks(t *testing.T) []*Block {
	key, err := crypto.ToECDSA(common.LeftPadBytes([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	signer := types.LatestSignerForChainID(big.NewInt(1337))
	to := common.HexToAddress("0x00000000000000000000000000000000000000b0")
	var txs []*types.Transaction
	for nonce := uint64(0); nonce < 2; nonce++ {
		tx, err := types.SignNewTx(key, signer, &types.DynamicFeeTx{ChainID: big.NewInt(1337), Nonce: nonce, GasTipCap: big.NewInt(1e9),
			GasFeeCap: big.NewInt(2e9), Gas: TransferGas, To: &to, Value: big.NewInt(12345)})
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	h := &Header{ParentHash: common.HexToHash("0x01"), StateRoot: common.HexToHash("0x02"), Coinbase: common.HexToAddress("0x03"),
		Height: 42, Time: 1_700_000_123_456, GasLimit: 30_000_000, GasUsed: 2 * TransferGas, BaseFee: big.NewInt(1e9),
		Bits: 0x1d00ffff, Nonce: 0xdeadbeefcafe}
	h.TxRoot, h.ReceiptRoot = TxRoot(txs), ReceiptRoot(txs)
	empty := &Header{ParentHash: h.Hash(), Height: 43, Time: 1_700_000_124_000, GasLimit: 30_000_000, BaseFee: big.NewInt(1e9),
		Bits: 0x207fffff, Nonce: 1, TxRoot: TxRoot(nil), ReceiptRoot: ReceiptRoot(nil)}
	return []*Block{{Header: h, Txs: txs}, {Header: empty}}
}

// TestPoWBlockEncodingGolden holds proof-of-work blocks (no consensus body)
// to the bytes they encoded to before consensus bodies existed: the golden
// file was written by the encoding of that time.
func TestPoWBlockEncodingGolden(t *testing.T) {
	var lines []string
	for _, b := range goldenPoWBlocks(t) {
		enc, err := b.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, hex.EncodeToString(enc), b.Hash().Hex())
	}
	got := []byte(strings.Join(lines, "\n") + "\n")
	const path = "testdata/pow-blocks.golden"
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("PoW block encoding changed:\n%s\nwant\n%s", got, want)
	}
	for i, b := range goldenPoWBlocks(t) {
		enc, _ := b.MarshalBinary()
		var dec Block
		if err := dec.UnmarshalBinary(enc); err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if again, _ := dec.MarshalBinary(); !bytes.Equal(again, enc) || dec.Hash() != b.Hash() {
			t.Fatalf("block %d does not round-trip", i)
		}
	}
}
