package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestRegisterChecksHandlerShape(t *testing.T) {
	s := NewServer(nil)
	for _, bad := range []any{
		42,
		func() (int, error) { return 0, nil },
		func(context.Context) int { return 0 },
		func(context.Context, int) (int, int) { return 0, 0 },
	} {
		if err := s.Register("x", bad); err == nil {
			t.Errorf("registered %T", bad)
		}
	}
}

func TestServerProtocol(t *testing.T) {
	s := NewServer(nil)
	calls := 0
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Register("add", func(_ context.Context, a int, b *int) (int, error) {
		calls++
		if b == nil {
			return a, nil
		}
		return a + *b, nil
	}))
	must(s.Register("fail", func(context.Context) (any, error) { return nil, errors.New("it broke") }))
	must(s.Register("boom", func(context.Context) (any, error) { panic("bug") }))
	must(s.Register("nothing", func(context.Context) (*int, error) { return nil, nil }))
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := NewClient(srv.URL)
	ctx := context.Background()

	var sum int
	if err := c.Call(ctx, &sum, "add", 2, 3); err != nil || sum != 5 {
		t.Fatalf("add: %v %d", err, sum)
	}
	if err := c.Call(ctx, &sum, "add", 7); err != nil || sum != 7 {
		t.Fatalf("optional argument: %v %d", err, sum)
	}
	var e *Error
	if err := c.Call(ctx, nil, "fail"); !errors.As(err, &e) || e.Code != CodeServerError || e.Message != "it broke" {
		t.Fatalf("handler error: %v", err)
	}
	if err := c.Call(ctx, nil, "boom"); !errors.As(err, &e) || e.Code != CodeInternal {
		t.Fatalf("panic: %v", err)
	}
	var raw json.RawMessage
	if err := c.Call(ctx, &raw, "nothing"); err != nil || string(raw) != "null" {
		t.Fatalf("nil result must be null: %v %s", err, raw)
	}
	before := calls
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"jsonrpc":"2.0","method":"add","params":[1,1]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || calls != before+1 {
		t.Fatalf("notification: status %d, calls %d", resp.StatusCode, calls-before)
	}
	batch := []BatchElem{{Method: "add", Params: []any{1, 2}, Result: new(int)}, {Method: "nope"}, {Method: "add", Params: []any{"x"}}}
	if err := c.BatchCall(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if *batch[0].Result.(*int) != 3 || batch[0].Error != nil {
		t.Fatalf("batch[0]: %v", batch[0].Error)
	}
	if !errors.As(batch[1].Error, &e) || e.Code != CodeMethodNotFound {
		t.Fatalf("batch[1]: %v", batch[1].Error)
	}
	if !errors.As(batch[2].Error, &e) || e.Code != CodeInvalidParams {
		t.Fatalf("batch[2]: %v", batch[2].Error)
	}
}

func TestBlockRefForms(t *testing.T) {
	hash := common.HexToHash("0x01")
	tests := []struct {
		in   string
		want BlockRef
		ok   bool
	}{
		{`"latest"`, BlockRef{Tag: "latest"}, true},
		{`"finalized"`, BlockRef{Tag: "finalized"}, true},
		{`"0x1f"`, BlockRef{Number: 31}, true},
		{`{"blockNumber":"0x2"}`, BlockRef{Number: 2}, true},
		{`{"blockHash":"` + hash.Hex() + `"}`, BlockRef{Hash: &hash}, true},
		{`"` + hash.Hex() + `"`, BlockRef{Hash: &hash}, true},
		{`"newest"`, BlockRef{}, false},
		{`12`, BlockRef{}, false},
		{`{}`, BlockRef{}, false},
		{`"0x"`, BlockRef{}, false},
	}
	for _, tt := range tests {
		var got BlockRef
		err := json.Unmarshal([]byte(tt.in), &got)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err %v", tt.in, err)
			continue
		}
		if tt.ok && (got.Tag != tt.want.Tag || got.Number != tt.want.Number || (got.Hash == nil) != (tt.want.Hash == nil)) {
			t.Errorf("%s: got %+v", tt.in, got)
		}
	}
}
