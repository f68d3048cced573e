package p2p

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
)

// A frame is one message code and the RLP payload, carried in one RLPx
// frame (see secure.go), which encrypts and authenticates it. RLPx's frame
// header holds a 24-bit size, MACed: a reader allocates a frame only once
// its header is authentic and at most MaxFrameSize.
const (
	// ProtocolVersion is the version peers must share. 3: headers are the
	// RLP of Ethereum headers, hashed with keccak256. 4: frames go over
	// RLPx, the node id is the key its handshake proves. 5: a block may
	// carry a consensus body its header commits to, and engines send their
	// own messages on channels (proof-of-stake votes and evidence are no
	// longer transactions).
	ProtocolVersion = 5
	// MaxFrameSize bounds one message (a response full of blocks): RLPx's
	// 24-bit frame size.
	MaxFrameSize = 1<<24 - 1
	// Limits on list lengths inside messages.
	maxHashes       = 4096
	maxLocator      = 64
	maxHeaders      = 2000
	maxBlocksPerMsg = 256
	maxTxsPerMsg    = 4096
	maxAddrs        = 64
	maxText         = 256
	// maxAddrLen bounds an address in Addrs: id@ and a listen address.
	maxAddrLen = 2*nodeIDLen + 1 + maxText
)

// Message codes.
const (
	codeHello byte = iota
	codeDisconnect
	codePing
	codePong
	codeNewBlock
	codeGetBlocks
	codeBlocks
	codeGetHeaders
	codeHeaders
	codeNewTxs
	codeGetTxs
	codeTxs
	codeGetAddrs
	codeAddrs
	codePushBlock
)

// Msg is a wire message. Every decoded message is validated before use.
type Msg interface {
	code() byte
	validate() error
}

// Hello is the first message each side sends inside the encrypted channel.
// The sender's node id is not in it: it is the key the transport handshake
// proved.
type Hello struct {
	Version    uint32
	ChainID    uint64
	Genesis    common.Hash
	Head       common.Hash
	Height     uint64
	Weight     *big.Int
	ListenAddr string // host:port this node accepts connections on, or ""
}

// Disconnect says why the sender is closing the connection.
type Disconnect struct{ Reason string }

// Ping asks for a Pong with the same nonce; it keeps idle links alive and
// measures latency.
type Ping struct{ Nonce uint64 }

// Pong answers a Ping.
type Pong struct{ Nonce uint64 }

// NewBlock announces a block the sender has, with its branch's total weight.
type NewBlock struct {
	Hash   common.Hash
	Height uint64
	Weight *big.Int
}

// PushBlock sends a new block whole, with its branch's total weight, so that
// it crosses a link in one trip instead of announce, request and reply.
type PushBlock struct {
	Block  []byte
	Weight *big.Int
}

// GetBlocks asks for blocks by hash.
type GetBlocks struct {
	ID     uint64
	Hashes []common.Hash
}

// Blocks answers GetBlocks with encoded blocks, in the order asked, leaving
// out the ones the sender does not have.
type Blocks struct {
	ID     uint64
	Blocks [][]byte
}

// GetHeaders asks for up to Max canonical headers after the first locator
// hash the receiver has on its canonical chain.
type GetHeaders struct {
	ID      uint64
	Locator []common.Hash
	Max     uint32
}

// Headers answers GetHeaders with encoded headers.
type Headers struct {
	ID      uint64
	Headers [][]byte
}

// NewTxs announces transaction hashes.
type NewTxs struct{ Hashes []common.Hash }

// GetTxs asks for pooled transactions by hash.
type GetTxs struct {
	ID     uint64
	Hashes []common.Hash
}

// Txs answers GetTxs with encoded transactions.
type Txs struct {
	ID  uint64
	Txs [][]byte
}

// GetAddrs asks for the addresses of the receiver's peers.
type GetAddrs struct{}

// Addrs answers GetAddrs with listen addresses.
type Addrs struct{ Addrs []string }

func (*Hello) code() byte      { return codeHello }
func (*Disconnect) code() byte { return codeDisconnect }
func (*Ping) code() byte       { return codePing }
func (*Pong) code() byte       { return codePong }
func (*NewBlock) code() byte   { return codeNewBlock }
func (*PushBlock) code() byte  { return codePushBlock }
func (*GetBlocks) code() byte  { return codeGetBlocks }
func (*Blocks) code() byte     { return codeBlocks }
func (*GetHeaders) code() byte { return codeGetHeaders }
func (*Headers) code() byte    { return codeHeaders }
func (*NewTxs) code() byte     { return codeNewTxs }
func (*GetTxs) code() byte     { return codeGetTxs }
func (*Txs) code() byte        { return codeTxs }
func (*GetAddrs) code() byte   { return codeGetAddrs }
func (*Addrs) code() byte      { return codeAddrs }

func checkLen(what string, n, max int) error {
	if n > max {
		return fmt.Errorf("%s: %d entries, limit %d", what, n, max)
	}
	return nil
}

func checkWeight(w *big.Int) error {
	if w == nil || w.Sign() < 0 || w.BitLen() > 512 {
		return errors.New("weight out of range")
	}
	return nil
}

func (m *Hello) validate() error {
	if len(m.ListenAddr) > maxText {
		return errors.New("hello: listen address too long")
	}
	return checkWeight(m.Weight)
}
func (m *Disconnect) validate() error { return checkLen("disconnect reason", len(m.Reason), maxText) }
func (m *Ping) validate() error       { return nil }
func (m *Pong) validate() error       { return nil }
func (m *NewBlock) validate() error   { return checkWeight(m.Weight) }
func (m *PushBlock) validate() error {
	if len(m.Block) > chain.MaxBlockSize {
		return fmt.Errorf("pushed block of %d bytes", len(m.Block))
	}
	return checkWeight(m.Weight)
}
func (m *GetBlocks) validate() error { return checkLen("get blocks", len(m.Hashes), maxBlocksPerMsg) }
func (m *Blocks) validate() error    { return checkLen("blocks", len(m.Blocks), maxBlocksPerMsg) }
func (m *GetHeaders) validate() error {
	if m.Max > maxHeaders {
		return fmt.Errorf("get headers: max %d above %d", m.Max, maxHeaders)
	}
	return checkLen("locator", len(m.Locator), maxLocator)
}
func (m *Headers) validate() error { return checkLen("headers", len(m.Headers), maxHeaders) }
func (m *NewTxs) validate() error  { return checkLen("tx hashes", len(m.Hashes), maxHashes) }
func (m *GetTxs) validate() error  { return checkLen("get txs", len(m.Hashes), maxHashes) }
func (m *Txs) validate() error     { return checkLen("txs", len(m.Txs), maxTxsPerMsg) }
func (m *GetAddrs) validate() error {
	return nil
}
func (m *Addrs) validate() error {
	for _, a := range m.Addrs {
		if len(a) > maxAddrLen {
			return errors.New("addrs: address too long")
		}
	}
	return checkLen("addrs", len(m.Addrs), maxAddrs)
}

func newMsg(code byte) (Msg, error) {
	switch code {
	case codeHello:
		return new(Hello), nil
	case codeDisconnect:
		return new(Disconnect), nil
	case codePing:
		return new(Ping), nil
	case codePong:
		return new(Pong), nil
	case codeNewBlock:
		return new(NewBlock), nil
	case codeGetBlocks:
		return new(GetBlocks), nil
	case codeBlocks:
		return new(Blocks), nil
	case codeGetHeaders:
		return new(GetHeaders), nil
	case codeHeaders:
		return new(Headers), nil
	case codeNewTxs:
		return new(NewTxs), nil
	case codeGetTxs:
		return new(GetTxs), nil
	case codeTxs:
		return new(Txs), nil
	case codeGetAddrs:
		return new(GetAddrs), nil
	case codeAddrs:
		return new(Addrs), nil
	case codePushBlock:
		return new(PushBlock), nil
	}
	return nil, fmt.Errorf("unknown message code %d", code)
}

var (
	// ErrFrameTooLarge is a message that does not fit in MaxFrameSize.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrBadMessage is a frame that does not decode or validate: the
	// sender's fault.
	ErrBadMessage = errors.New("bad message")
)

// EncodeMsg returns m as one frame: its code, then its RLP.
func EncodeMsg(m Msg) ([]byte, error) {
	if cm, ok := m.(*ChannelMsg); ok {
		if n := 1 + len(cm.Payload); n > MaxFrameSize {
			return nil, fmt.Errorf("%w: message %d of %d bytes", ErrFrameTooLarge, cm.Code, n)
		}
		return cm.frame(), nil
	}
	payload, err := rlp.EncodeToBytes(m)
	if err != nil {
		return nil, fmt.Errorf("encode message %d: %w", m.code(), err)
	}
	if n := 1 + len(payload); n > MaxFrameSize {
		return nil, fmt.Errorf("%w: message %d of %d bytes", ErrFrameTooLarge, m.code(), n)
	}
	return append([]byte{m.code()}, payload...), nil
}

// decodeMsg decodes and validates the payload of a message with code.
func decodeMsg(code byte, payload []byte) (Msg, error) {
	m, err := newMsg(code)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if err := rlp.DecodeBytes(payload, m); err != nil {
		return nil, fmt.Errorf("%w: decode message %d: %v", ErrBadMessage, code, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: message %d: %v", ErrBadMessage, code, err)
	}
	return m, nil
}
