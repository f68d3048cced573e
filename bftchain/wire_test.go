package bftchain

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/chaind/chaind/bft"
	ct "github.com/chaind/chaind/chain/chaintest"
)

// signed is m signed by key index i of ct.
func signed(t *testing.T, i int, m bft.Message) bft.Message {
	t.Helper()
	sig, err := KeySigner{ct.Key(i)}.Sign(m.SignBytes("1337"))
	if err != nil {
		t.Fatal(err)
	}
	m.Sig = sig
	return m
}

// TestMessageWire: a signed message decodes to itself; a payload of
// another size, or of a message bft.Message.ValidateBasic refuses, does not
// decode.
func TestMessageWire(t *testing.T) {
	m := signed(t, 0, bft.Message{Type: bft.TypeProposal, Height: 7, Round: 2, Value: bft.Value{1, 2}, ValidRound: 1})
	got, err := DecodeMessage(EncodeMessage(m))
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("decoded %+v (%v), want %+v", got, err, m)
	}
	enc := EncodeMessage(m)
	for name, b := range map[string][]byte{
		"short":             enc[:len(enc)-1],
		"long":              append(bytes.Clone(enc), 0),
		"proposal of nil":   EncodeMessage(signed(t, 0, bft.Message{Type: bft.TypeProposal, Height: 7, ValidRound: bft.NoRound})),
		"unknown type":      append([]byte{9}, enc[1:]...),
		"vote, valid round": EncodeMessage(signed(t, 0, bft.Message{Type: bft.TypePrevote, Height: 7, Round: 2, ValidRound: 1})),
	} {
		if _, err := DecodeMessage(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// TestChannels: a validator's message is relayed, without its sender, and
// handed to the node's producer, once however often it comes; one signed
// by another key, or sent on the other channel, is the sender's fault and
// goes nowhere.
func TestChannels(t *testing.T) {
	_, clk, e, c := devChain(t)
	var relayed []string
	chans := e.Channels(func(code byte, _ []byte, except string) { relayed = append(relayed, string(code)+except) })
	p, err := NewProducer(ProducerConfig{Chain: c, Engine: e, Txs: nilTxs, Key: ct.Key(0), Dir: t.TempDir(), Clock: clk, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	vote := signed(t, 0, bft.Message{Type: bft.TypePrevote, Height: 1, Value: bft.Value{3}, ValidRound: bft.NoRound})
	handle := func(ch int, m bft.Message) error {
		d, err := chans[ch].Decode(EncodeMessage(m))
		if err != nil {
			return err
		}
		return chans[ch].Handle("peer1", d)
	}
	if chans[1].Code != VoteCode || handle(1, vote) != nil {
		t.Fatal("a validator's vote refused")
	}
	if got := (<-p.inbox).msg; !reflect.DeepEqual(got, vote) || len(relayed) != 1 || relayed[0] != string(VoteCode)+"peer1" {
		t.Fatalf("delivered %v, relayed %q", got, relayed)
	}
	if handle(1, vote) != nil || len(relayed) != 1 || len(p.inbox) != 0 {
		t.Fatalf("a vote seen before went on: relayed %q, %d delivered", relayed, len(p.inbox))
	}
	if handle(0, vote) == nil {
		t.Error("a vote on the proposals channel taken")
	}
	forged := vote
	forged.Sig = signed(t, 5, vote).Sig
	if handle(1, forged) == nil {
		t.Error("a vote signed by another key taken")
	}
	if len(relayed) != 1 || len(p.inbox) != 0 {
		t.Errorf("refused messages went on: relayed %q, %d delivered", relayed, len(p.inbox))
	}
}

// TestProposalWire: a proposal travels with its block; one whose block is
// not its value, or of another height, or without a block, does not
// decode.
func TestProposalWire(t *testing.T) {
	g, clk, _, c := devChain(t)
	clk.Advance(g.BlockTime.D())
	b, err := c.BuildBlock(ct.Addr(0), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := signed(t, 0, bft.Message{Type: bft.TypeProposal, Height: 1, Value: bft.Value(b.Header.SealHash()), ValidRound: bft.NoRound})
	enc, err := EncodeProposal(Proposal{Msg: m, Block: b})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeProposal(enc)
	if err != nil || !reflect.DeepEqual(got.Msg, m) || got.Block.Hash() != b.Hash() {
		t.Fatalf("decoded %+v (%v)", got, err)
	}
	other := m
	other.Value = bft.Value{9}
	otherEnc, err := EncodeProposal(Proposal{Msg: signed(t, 0, other), Block: b})
	if err != nil {
		t.Fatal(err)
	}
	higher := m
	higher.Height = 2
	higherEnc, err := EncodeProposal(Proposal{Msg: signed(t, 0, higher), Block: b})
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string][]byte{"another value": otherEnc, "another height": higherEnc, "no block": EncodeMessage(m)} {
		if _, err := DecodeProposal(p); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
