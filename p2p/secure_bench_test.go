package p2p

import (
	"fmt"
	"net"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

// securePair returns both ends of a TCP loopback connection past the
// transport handshake.
func securePair(tb testing.TB) (dialled, accepted *Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	ka, _ := crypto.GenerateKey()
	kb, _ := crypto.GenerateKey()
	done := make(chan error, 1)
	go func() {
		raw, err := ln.Accept()
		if err == nil {
			accepted, err = SecureAccept(raw, kb)
		}
		done <- err
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	if dialled, err = SecureDial(raw, ka, NodeIDOf(kb)); err != nil {
		tb.Fatal(err)
	}
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { dialled.Close(); accepted.Close() })
	return dialled, accepted
}

// BenchmarkHandshake is the cost of one connection's transport handshake
// (preambles and RLPx's ECIES), both sides, over TCP loopback.
func BenchmarkHandshake(b *testing.B) {
	for b.Loop() {
		securePair(b)
	}
}

// BenchmarkFrames is the throughput of encrypted, MACed frames of a
// message carrying size bytes, written by one side and read by the other.
func BenchmarkFrames(b *testing.B) {
	for _, size := range []int{100, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			w, r := securePair(b)
			frame, err := EncodeMsg(&Blocks{Blocks: [][]byte{make([]byte, size)}})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(frame)))
			errs := make(chan error, 1)
			go func() {
				for range b.N {
					if err := w.WriteFrame(frame); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
			for range b.N {
				if _, err := r.ReadMsg(); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		})
	}
}
