package dashboard

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaind/chaind/clock"
)

// remote matches a reference that would make the browser fetch from
// another host (XML namespace URIs are names, not fetches).
var remote = regexp.MustCompile(`(src|href)=["']?(https?:)?//|url\((https?:)?//|@import|fetch\(["']https?:`)

func testState(calls *atomic.Int32) func(context.Context) State {
	return func(context.Context) State {
		n := calls.Add(1)
		return State{Consensus: "pow", Nodes: []Node{{Index: 0, Alive: true, Height: uint64(n)}}}
	}
}

// The page, its assets and a snapshot are served; the page fetches nothing
// from another host.
func TestPageAndAssets(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(New(Config{State: testState(&calls)}))
	defer srv.Close()
	for path, want := range map[string]string{"/": "<svg id=\"tree\"", "/static/app.js": "EventSource", "/static/style.css": "#nodes", "/state": `"height":1`} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %s, want %q in:\n%.300s", path, resp.Status, want, body)
		}
		if remote.Match(body) {
			t.Errorf("GET %s refers to another host", path)
		}
	}
	if resp, _ := http.Post(srv.URL+"/rpc", "application/json", strings.NewReader("{}")); resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound {
		t.Errorf("a read-only dashboard accepts control calls: %s", resp.Status)
	}
}

// The stream sends a snapshot at once and another at each tick of the
// clock, and the control API is reached at /rpc.
func TestEventsAndControl(t *testing.T) {
	var calls atomic.Int32
	sim := clock.NewSim(time.Unix(0, 0))
	var controlled atomic.Bool
	ctl := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		controlled.Store(r.URL.Path == "/")
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":true}`)
	})
	srv := httptest.NewServer(New(Config{State: testState(&calls), Control: ctl, Clock: sim, Interval: time.Second}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() string {
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				return data
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return ""
	}
	if first := next(); !strings.Contains(first, `"height":1`) {
		t.Fatalf("first event %s", first)
	}
	if err := sim.BlockUntil(context.Background(), 1); err != nil { // the stream's ticker
		t.Fatal(err)
	}
	sim.Advance(time.Second)
	if second := next(); !strings.Contains(second, `"height":2`) {
		t.Fatalf("second event %s", second)
	}
	call := func(origin string) int {
		req, _ := http.NewRequest("POST", srv.URL+"/rpc", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"testnet_heal","params":[]}`))
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if code := call(srv.URL); code != 200 || !controlled.Load() {
		t.Fatalf("control call from the page: %d", code)
	}
	controlled.Store(false)
	if code := call("http://evil.example"); code != http.StatusForbidden || controlled.Load() {
		t.Fatalf("control call from another origin: %d, passed on %v", code, controlled.Load())
	}
}

// A finished run's page carries its state and script inline.
func TestWriteStatic(t *testing.T) {
	var b bytes.Buffer
	st := State{Consensus: "pos", Nodes: []Node{{Index: 3, Alive: true, Height: 42, Head: "0xabc"}}, Events: []Event{{Kind: "action", Text: "partition </script>"}}}
	if err := WriteStatic(&b, st); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{`"height":42`, "function drawTree", "#nodes {", "live:  false"} {
		if !strings.Contains(page, want) {
			t.Errorf("static page lacks %q", want)
		}
	}
	if strings.Contains(page, "partition </script>") || strings.Contains(page, `src="/static/`) {
		t.Error("static page breaks out of its script or needs a server")
	}
}
