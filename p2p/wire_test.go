package p2p

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// decodeFrame decodes a frame made by EncodeMsg, as Conn.ReadMsg does the
// code and payload of an RLPx frame.
func decodeFrame(frame []byte) (Msg, error) {
	if len(frame) == 0 {
		return nil, fmt.Errorf("%w: empty frame", ErrBadMessage)
	}
	return decodeMsg(frame[0], frame[1:])
}

func TestWireRoundTrip(t *testing.T) {
	msgs := []Msg{
		&Hello{Version: 1, ChainID: 5, Genesis: common.Hash{1}, Head: common.Hash{2}, Height: 9, Weight: big.NewInt(77), ListenAddr: "127.0.0.1:1"},
		&Disconnect{Reason: "bye"},
		&Ping{Nonce: 4}, &Pong{Nonce: 4},
		&NewBlock{Hash: common.Hash{5}, Height: 6, Weight: big.NewInt(7)},
		&PushBlock{Block: []byte{1, 2, 3}, Weight: big.NewInt(8)},
		&GetBlocks{ID: 1, Hashes: []common.Hash{{8}}},
		&Blocks{ID: 1, Blocks: [][]byte{{1, 2}}},
		&GetHeaders{ID: 2, Locator: []common.Hash{{9}}, Max: 10},
		&Headers{ID: 2, Headers: [][]byte{{3}}},
		&NewTxs{Hashes: []common.Hash{{10}}},
		&GetTxs{ID: 3, Hashes: []common.Hash{{11}}},
		&Txs{ID: 3, Txs: [][]byte{{4}}},
		&GetAddrs{},
		&Addrs{Addrs: []string{"127.0.0.1:2"}},
	}
	for _, m := range msgs {
		frame, err := EncodeMsg(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeFrame(frame)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("%T: got %+v, want %+v", m, got, m)
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r    *bytes.Reader
	read int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

func TestOversizedPreambleRefusedBeforeReading(t *testing.T) {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], maxPreamble+1)
	r := &countingReader{r: bytes.NewReader(append(hdr[:], make([]byte, 2*maxPreamble)...))}
	if _, err := readPreamble(r); !errors.Is(err, ErrBadMessage) {
		t.Fatalf("got %v", err)
	}
	if r.read != 4 {
		t.Fatalf("read %d bytes of an oversized preamble", r.read)
	}
}

func TestOversizedMessageNotEncoded(t *testing.T) {
	if _, err := EncodeMsg(&Blocks{Blocks: [][]byte{make([]byte, MaxFrameSize)}}); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("got %v", err)
	}
}

func TestInvalidMessagesRefused(t *testing.T) {
	for _, m := range []Msg{
		&GetHeaders{Max: maxHeaders + 1},
		&GetBlocks{Hashes: make([]common.Hash, maxBlocksPerMsg+1)},
		&Hello{Weight: new(big.Int).Lsh(big.NewInt(1), 600)},
	} {
		frame, err := EncodeMsg(m)
		if err != nil {
			continue // not even encodable: fine
		}
		if _, err := decodeFrame(frame); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%T accepted: %v", m, err)
		}
	}
	for _, frame := range [][]byte{{99, 0xc0}, {}, {codeNewBlock, 0xff, 0x01}} {
		if _, err := decodeFrame(frame); !errors.Is(err, ErrBadMessage) {
			t.Errorf("frame %x: %v", frame, err)
		}
	}
}

func FuzzDecodeFrame(f *testing.F) {
	frame, _ := EncodeMsg(&Hello{Weight: big.NewInt(1)})
	f.Add(frame)
	frame, _ = EncodeMsg(&Blocks{ID: 1, Blocks: [][]byte{{1}}})
	f.Add(frame)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeFrame(data)
		if err != nil {
			return
		}
		if _, err := EncodeMsg(m); err != nil {
			t.Fatalf("decoded message does not re-encode: %v", err)
		}
	})
}

func FuzzReadPreamble(f *testing.F) {
	frame, _ := plainFrame(codeHello, &preamble{Version: ProtocolVersion, Weight: new(big.Int), NodeID: make([]byte, nodeIDLen)})
	f.Add(frame)
	frame, _ = plainFrame(codeDisconnect, &Disconnect{Reason: "too many peers from 10.0.0.1"})
	f.Add(frame)
	f.Fuzz(func(t *testing.T, data []byte) {
		readPreamble(bytes.NewReader(data)) // must not panic or allocate beyond maxPreamble
	})
}
