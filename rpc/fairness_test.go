package rpc_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/gorilla/websocket"
)

// floodConn is one connection of a subscription flood: it subscribes
// subsPerConn times, reads everything the node sends as fast as it can and
// counts the notifications.
type floodConn struct {
	conn    *websocket.Conn
	answers chan []byte // answers to the batches it sent
	notes   atomic.Int64
	err     chan error // why the read loop ended
}

func dialFlood(t testing.TB, url string) *floodConn {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(wsURL(url), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &floodConn{conn: conn, answers: make(chan []byte, 1), err: make(chan error, 1)}
	go func() {
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				f.err <- err
				return
			}
			if len(msg) > 0 && msg[0] == '[' {
				f.answers <- msg
			} else {
				f.notes.Add(1)
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return f
}

// batch sends calls as one batch and waits for its answer.
func (f *floodConn) batch(t testing.TB, calls []string) []reply {
	t.Helper()
	if err := f.conn.WriteMessage(websocket.TextMessage, []byte("["+strings.Join(calls, ",")+"]")); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-f.answers:
		var out []reply
		if err := json.Unmarshal(msg, &out); err != nil || len(out) != len(calls) {
			t.Fatalf("batch answer %.200s: %v", msg, err)
		}
		return out
	case err := <-f.err:
		t.Fatalf("flood connection cut while it read everything: %v", err)
	case <-time.After(5 * time.Minute): // a bound for a hung node, not a speed requirement
		t.Fatal("no answer to a batch in five minutes")
	}
	return nil
}

// flood is a subscription flood: conns WebSocket connections with
// subsPerConn subscriptions each to new pending transactions, a quarter of
// them asking for whole transactions.
type flood struct {
	conns []*floodConn
	ids   [][]string // each connection's subscription ids
}

func subscribeFlood(t testing.TB, url string, conns, subsPerConn int) *flood {
	t.Helper()
	f := &flood{conns: make([]*floodConn, conns), ids: make([][]string, conns)}
	subscribe := make([]string, subsPerConn)
	for i := range subscribe {
		full := ""
		if i%4 == 3 {
			full = ",true"
		}
		subscribe[i] = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"eth_subscribe","params":["newPendingTransactions"%s]}`, i, full)
	}
	var wg sync.WaitGroup
	for i := range f.conns {
		f.conns[i] = dialFlood(t, url)
		wg.Go(func() {
			for _, a := range f.conns[i].batch(t, subscribe) {
				var id string
				if a.Error != nil || json.Unmarshal(a.Result, &id) != nil {
					t.Errorf("subscribe: %s %v", a.Result, a.Error)
					return
				}
				f.ids[i] = append(f.ids[i], id)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return f
}

// unsubscribe ends every subscription and returns how many notifications
// the flood was sent. The answer to an unsubscription comes after what the
// node still had queued for the connection, so the count is complete.
func (f *flood) unsubscribe(t testing.TB) int64 {
	t.Helper()
	var wg sync.WaitGroup
	for i, c := range f.conns {
		wg.Go(func() {
			calls := make([]string, len(f.ids[i]))
			for j, id := range f.ids[i] {
				calls[j] = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"eth_unsubscribe","params":["%s"]}`, j, id)
			}
			c.batch(t, calls)
		})
	}
	wg.Wait()
	var notes int64
	for _, c := range f.conns {
		notes += c.notes.Swap(0)
	}
	return notes
}

// sendAll posts every body from workers concurrent clients.
func sendAll(t testing.TB, url string, bodies [][]byte, workers int) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer hc.CloseIdleConnections()
	work := make(chan []byte, len(bodies))
	for _, b := range bodies {
		work <- b
	}
	close(work)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for body := range work {
				if err := postExpectOK(hc, url, body); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// The subscription flood of the test and the benchmark: 256 connections
// with 128 subscriptions each.
const floodConns, floodSubsPerConn = 256, 128

// TestSubscriptionFloodIsBounded: 256 WebSocket connections with 128
// subscriptions each to new pending transactions, all reading as fast as
// they can, are sent together at most the node-wide budget's burst plus
// its share per event (WSConfig.NotifyRate and NotifyPerEvent, 1,000 and
// 2 by default), whatever their number, while every transfer sent over
// HTTP is admitted. The server's clock stands still, so that the budget
// does not refill with time and the bound is exact; without the budgets
// each of the 32,768 subscriptions was sent every transaction. What the
// flood costs intake in time is BenchmarkIntakeUnderSubscriptionFlood's.
func TestSubscriptionFloodIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("a flood of 32,768 subscriptions")
	}
	const sends = 900
	hs := benchServer(t, sends, clock.NewSim(ct.GenesisTime))
	f := subscribeFlood(t, hs.URL, floodConns, floodSubsPerConn)
	sendAll(t, hs.URL, signedBodies(t, sends, 1), 4)
	notes := f.unsubscribe(t)
	const bound = 1_000 + 2*sends
	t.Logf("%d transfers admitted; the flood was sent %d notifications (bound %d)", sends, notes, bound)
	if notes == 0 {
		t.Fatal("the flood's subscribers were sent nothing")
	}
	if notes > bound {
		t.Fatalf("the flood was sent %d notifications for %d transfers, more than the budget's %d", notes, sends, bound)
	}
}

// BenchmarkIntakeUnderSubscriptionFlood measures the intake of
// BenchmarkSendRawTransaction's transfers, one per request from 4 clients,
// without subscribers (quiet) and while the subscription flood of
// TestSubscriptionFloodIsBounded reads everything it is sent (flooded), on
// the real clock: the ratio of the two ns/op, from one run, is what the
// flood costs intake (near 1x with the budgets; tens of times without).
func BenchmarkIntakeUnderSubscriptionFlood(b *testing.B) {
	for _, flooded := range []bool{false, true} {
		name := "quiet"
		if flooded {
			name = "flooded"
		}
		b.Run(name, func(b *testing.B) {
			bodies := signedBodies(b, b.N, 1)
			hs := benchServer(b, b.N, clock.OrReal(nil))
			var f *flood
			if flooded {
				f = subscribeFlood(b, hs.URL, floodConns, floodSubsPerConn)
			}
			runtime.GC()
			b.ResetTimer()
			sendAll(b, hs.URL, bodies, 4)
			b.StopTimer()
			if f != nil {
				b.ReportMetric(float64(f.unsubscribe(b))/float64(b.N), "notes/op")
			}
		})
	}
}
