package bftchain

import (
	"encoding/binary"
	"fmt"

	"github.com/chaind/chaind/bft"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/p2p"
	"github.com/ethereum/go-ethereum/crypto"
)

// The p2p message codes of a BFT chain (beside proof of stake's 0x40 and
// 0x41).
const (
	ProposalCode byte = 0x42
	VoteCode     byte = 0x43
)

// messageSize is a signed message on the wire: type (1), height (8), round
// (4), valid round (4), validator (2), value (32), signature (65).
const messageSize = 1 + 8 + 4 + 4 + 2 + 32 + crypto.SignatureLength

// maxProposalSize is a proposal with its block.
const maxProposalSize = messageSize + chain.MaxBlockSize

// Per-peer budget of each channel: a validator sends a proposal and two
// votes a round, and relays those of the others.
const (
	channelRate  = 200
	channelBurst = 400
)

// CodeOf is the channel code of m.
func CodeOf(m bft.Message) byte {
	if m.Type == bft.TypeProposal {
		return ProposalCode
	}
	return VoteCode
}

// EncodeMessage is signed m on the wire.
func EncodeMessage(m bft.Message) []byte {
	b := make([]byte, 0, messageSize)
	b = append(b, byte(m.Type))
	b = binary.BigEndian.AppendUint64(b, uint64(m.Height))
	b = binary.BigEndian.AppendUint32(b, uint32(m.Round))
	b = binary.BigEndian.AppendUint32(b, uint32(m.ValidRound))
	b = binary.BigEndian.AppendUint16(b, uint16(m.Validator))
	b = append(b, m.Value[:]...)
	return append(b, m.Sig...)
}

// DecodeMessage reads a message of EncodeMessage and checks its form
// (bft.Message.ValidateBasic); its signature is the handler's to check.
func DecodeMessage(b []byte) (bft.Message, error) {
	if len(b) != messageSize {
		return bft.Message{}, fmt.Errorf("bftchain: message of %d bytes, want %d", len(b), messageSize)
	}
	m := bft.Message{Type: bft.Type(b[0]), Height: bft.Height(binary.BigEndian.Uint64(b[1:])),
		Round: bft.Round(int32(binary.BigEndian.Uint32(b[9:]))), ValidRound: bft.Round(int32(binary.BigEndian.Uint32(b[13:]))),
		Validator: int(binary.BigEndian.Uint16(b[17:]))}
	copy(m.Value[:], b[19:51])
	m.Sig = append([]byte(nil), b[51:]...)
	if err := m.ValidateBasic(); err != nil {
		return bft.Message{}, err
	}
	return m, nil
}

// Proposal is a signed proposal with the block it proposes, whose SealHash
// is its value: a validator checks the block against its head's state
// before it prevotes for it (Tendermint's valid(v); CometBFT sends the
// block in parts, one message fits here).
type Proposal struct {
	Msg   bft.Message
	Block *chain.Block
}

// EncodeProposal is p on the wire: the signed message, then the block.
func EncodeProposal(p Proposal) ([]byte, error) {
	b, err := p.Block.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("bftchain: proposed block: %w", err)
	}
	return append(EncodeMessage(p.Msg), b...), nil
}

// DecodeProposal reads a proposal of EncodeProposal and checks that its
// block is the one it proposes, at its height.
func DecodeProposal(b []byte) (Proposal, error) {
	if len(b) < messageSize {
		return Proposal{}, fmt.Errorf("bftchain: proposal of %d bytes", len(b))
	}
	m, err := DecodeMessage(b[:messageSize])
	if err != nil {
		return Proposal{}, err
	}
	if m.Type != bft.TypeProposal {
		return Proposal{}, fmt.Errorf("bftchain: a %s where a proposal goes", m.Type)
	}
	blk := new(chain.Block)
	if err := blk.UnmarshalBinary(b[messageSize:]); err != nil {
		return Proposal{}, fmt.Errorf("bftchain: proposed block: %w", err)
	}
	if blk.Height() != uint64(m.Height) || bft.Value(blk.Header.SealHash()) != m.Value {
		return Proposal{}, fmt.Errorf("bftchain: proposal of %s at height %d carries block %d of value %x", m.Value, m.Height, blk.Height(), blk.Header.SealHash())
	}
	return Proposal{Msg: m, Block: blk}, nil
}

// Channels are the p2p channels of the chain's proposals and votes, which
// every node of a BFT chain registers (a node finds them on its engine): a
// message whose signature is not its validator's costs the sender its
// connection; a valid one seen for the first time goes to the node's
// producer, if it has one (NewProducer), and on to the other peers (relay,
// without the sender).
func (e *Engine) Channels(relay func(code byte, payload []byte, except string)) []p2p.Channel {
	seen := newSeenSet(seenMessages)
	handle := func(peer string, m bft.Message, blk *chain.Block, payload func() ([]byte, error)) error {
		if err := bft.Verify(e.chainID, e.vals, AddressVerifier{}, m); err != nil {
			return err
		}
		if !seen.add(m) {
			return nil
		}
		if deliver := e.deliver.Load(); deliver != nil {
			(*deliver)(m, blk)
		}
		b, err := payload()
		if err != nil {
			return err
		}
		relay(CodeOf(m), b, peer)
		return nil
	}
	proposals := p2p.Channel{Code: ProposalCode, Name: "bft-proposals", MaxSize: maxProposalSize, Rate: channelRate, Burst: channelBurst,
		Decode: func(payload []byte) (any, error) { return DecodeProposal(payload) },
		Handle: func(peer string, msg any) error {
			p := msg.(Proposal)
			return handle(peer, p.Msg, p.Block, func() ([]byte, error) { return EncodeProposal(p) })
		}}
	votes := p2p.Channel{Code: VoteCode, Name: "bft-votes", MaxSize: messageSize, Rate: channelRate, Burst: channelBurst,
		Decode: func(payload []byte) (any, error) { return DecodeMessage(payload) },
		Handle: func(peer string, msg any) error {
			m := msg.(bft.Message)
			if m.Type == bft.TypeProposal {
				return fmt.Errorf("bftchain: a proposal on the votes channel")
			}
			return handle(peer, m, nil, func() ([]byte, error) { return EncodeMessage(m), nil })
		}}
	return []p2p.Channel{proposals, votes}
}
