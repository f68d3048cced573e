package pos

import (
	"bytes"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
)

func fuzzEngine(f *testing.F) *Engine {
	g := &chain.Genesis{ChainID: 7, Consensus: chain.ConsensusPoS, Alloc: chain.Alloc{},
		Engine: &GenesisConfig{Validators: []GenesisValidator{{Address: common.Address{1}, Stake: chain.NewBigInt(big.NewInt(1e18))}}}}
	g.FillDefaults()
	e, err := New(g, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	return e
}

// FuzzSignedVote decodes votes as the vote channel does: what decodes
// re-encodes to its input, and nothing verifies from unsigned bytes.
func FuzzSignedVote(f *testing.F) {
	e := fuzzEngine(f)
	sv := SignedVote{Vote: Vote{Source: Checkpoint{Epoch: 1}, Target: Checkpoint{Epoch: 2}}, Validator: common.Address{1}, Sig: make([]byte, 65)}
	f.Add(sv.Encode())
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := DecodeSignedVote(raw)
		if err != nil {
			return
		}
		if !bytes.Equal(got.Encode(), raw) {
			t.Fatal("a decoded vote does not re-encode to its input")
		}
		if e.VerifyVote(got) == nil && got.Validator == (common.Address{1}) {
			t.Fatal("a vote of a key nobody holds verified")
		}
	})
}

// FuzzBody decodes consensus bodies as block import does: what decodes
// re-encodes to its input.
func FuzzBody(f *testing.F) {
	sv := SignedVote{Vote: Vote{Target: Checkpoint{Epoch: 2}}, Sig: make([]byte, 65)}
	f.Add((&Body{Votes: []SignedVote{sv}, Evidence: []Evidence{{Kind: DoubleVote, A: sv.Encode(), B: sv.Encode()}}}).Encode())
	f.Add([]byte{0xc2, 0xc0, 0xc0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := DecodeBody(raw)
		if err == nil && !bytes.Equal(b.Encode(), raw) {
			t.Fatal("a decoded body does not re-encode to its input")
		}
	})
}

// FuzzEvidence checks pairs of hostile payloads as double-proposal and
// double-vote evidence: nothing is ever accepted from unsigned bytes.
func FuzzEvidence(f *testing.F) {
	e := fuzzEngine(f)
	h := &chain.Header{Height: 1, Time: 2}
	hb, _ := h.MarshalBinary()
	f.Add(hb, hb)
	f.Add([]byte{0xc0}, []byte{})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if v, err := e.checkDoubleProposal(a, b); err == nil {
			t.Fatalf("double proposal by %s accepted from fuzzed bytes", v)
		}
		e.checkDoubleVote(a, b)
	})
}

// FuzzStakingCall decodes staking calldata as the engine does.
func FuzzStakingCall(f *testing.F) {
	enc, _ := rlp.EncodeToBytes(StakingCall{Unbond: big.NewInt(5)})
	f.Add(enc)
	f.Add([]byte{0xc1, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		var call StakingCall
		if rlp.DecodeBytes(data, &call) != nil || call.Unbond == nil {
			return
		}
		again, err := rlp.EncodeToBytes(call)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var back StakingCall
		if err := rlp.DecodeBytes(again, &back); err != nil || back.Unbond.Cmp(call.Unbond) != 0 {
			t.Fatalf("round trip changed %v: %v", call.Unbond, err)
		}
	})
}

// FuzzInterchangeImport imports hostile interchange files into an empty
// protection database: any bytes give an error or an import whose export
// imports again to the same export.
func FuzzInterchangeImport(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "eip3076-example.json")); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"metadata":{"interchange_format_version":"5","genesis_validators_root":"0x01"},"data":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := OpenMemProtection()
		defer p.Close()
		if _, err := p.Import(bytes.NewReader(data)); err != nil {
			return
		}
		var first, second bytes.Buffer
		if err := p.Export(&first); err != nil {
			t.Fatalf("export after a good import: %v", err)
		}
		q := OpenMemProtection()
		defer q.Close()
		if _, err := q.Import(bytes.NewReader(first.Bytes())); err != nil {
			t.Fatalf("our own export refused: %v", err)
		}
		if err := q.Export(&second); err != nil || first.String() != second.String() {
			t.Fatalf("export, import, export changed the file (%v)", err)
		}
	})
}
