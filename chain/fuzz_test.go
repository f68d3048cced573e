package chain

import (
	"bytes"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
)

// Decoders of what the store reads back and of genesis files: any input
// gives a value or an error, never a panic, and what decodes re-encodes to
// something that decodes to the same value.

func FuzzGenesisJSON(f *testing.F) {
	g := &Genesis{ChainID: 9, Consensus: anyConsensus, Engine: &anyConfig{Seed: 3},
		Alloc: Alloc{common.Address{1}: {Balance: NewBigInt(big.NewInt(1000))}}}
	g.FillDefaults()
	seed, _ := json.Marshal(g)
	f.Add(seed)
	f.Add([]byte(`{"chainId":1,"consensus":"pow","blockTime":"1s","difficulty":"1000"}`))
	f.Add([]byte(`{"consensus":"pos","validators":[{"address":"0x01","stake":"-1"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ParseGenesis(data)
		if err != nil {
			return
		}
		g.Block(anyEngine{}) // a genesis that parses must build its block
		enc, err := json.Marshal(g)
		if err != nil {
			t.Fatalf("re-encode a parsed genesis: %v", err)
		}
		if _, err := ParseGenesis(enc); err != nil {
			t.Fatalf("a parsed genesis does not parse again: %v\n%s", err, enc)
		}
	})
}

func FuzzStoredBody(f *testing.F) {
	empty, _ := encodeTxs(nil)
	f.Add(empty)
	f.Add([]byte{0xc1, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		txs, err := decodeTxs(data)
		if err != nil {
			return
		}
		enc, err := encodeTxs(txs)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := decodeTxs(enc)
		if err != nil || TxRoot(again) != TxRoot(txs) {
			t.Fatalf("round trip changed the body: %v", err)
		}
	})
}

func FuzzUndoRecord(f *testing.F) {
	u := undoRecord{Entries: []journalEntry{{Addr: common.Address{1}, Existed: true, Prev: Account{Balance: big.NewInt(5), Nonce: 2}}},
		Records: []recordEntry{{Key: common.Hash{2}, Prev: []byte{7}}, {Key: common.Hash{3}}}}
	enc, _ := u.encode()
	f.Add(enc)
	empty, _ := undoRecord{}.encode()
	f.Add(empty)
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := decodeUndo(data)
		if err != nil {
			return
		}
		enc, err := u.encode()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := decodeUndo(enc)
		if err != nil || len(again.Entries) != len(u.Entries) || len(again.Records) != len(u.Records) {
			t.Fatalf("round trip changed the record: %v", err)
		}
	})
}

func FuzzStoredAccount(f *testing.F) {
	enc, _ := rlp.EncodeToBytes(Account{Balance: big.NewInt(1e18), Nonce: 7})
	f.Add(enc)
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Account
		if rlp.DecodeBytes(data, &a) != nil {
			return
		}
		enc, err := rlp.EncodeToBytes(a)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var b Account
		if err := rlp.DecodeBytes(enc, &b); err != nil || a.Nonce != b.Nonce {
			t.Fatalf("round trip changed the account: %v", err)
		}
	})
}

func FuzzHeadMarker(f *testing.F) {
	f.Add(encodeMarkerSlot(markedHead{Seq: 3, Height: 100, Hash: common.Hash{7}}))
	f.Add(bytes.Repeat([]byte{0xff}, markerSlot))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < markerSlot {
			return
		}
		m, ok := decodeMarkerSlot(data[:markerSlot])
		if ok && !bytes.Equal(encodeMarkerSlot(m), data[:markerSlot]) {
			t.Fatalf("slot %x decodes to %+v, which encodes differently", data[:markerSlot], m)
		}
	})
}
