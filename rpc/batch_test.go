package rpc

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestBatchAnswersAsItsCalls: whatever a batch holds (well-formed calls,
// notifications, calls of the wrong shape, values that are no calls), its
// answer is the answers of its calls one by one, in order, whether the
// batch decodes in one pass or falls back to call by call.
func TestBatchAnswersAsItsCalls(t *testing.T) {
	s := NewServer(nil)
	if err := s.Register("add", func(_ context.Context, a int, b *int) (int, error) {
		if b == nil {
			return a, nil
		}
		return a + *b, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Register("fail", func(context.Context) (any, error) { return nil, errors.New("it broke") }); err != nil {
		t.Fatal(err)
	}
	good := []string{
		`{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}`,
		`{"jsonrpc":"2.0","id":"a","method":"add","params":[5]}`,
		`{"jsonrpc":"2.0","method":"add","params":[1]}`,
		`{"jsonrpc":"2.0","id":2,"method":"fail"}`,
		`{"jsonrpc":"2.0","id":3,"method":"nope","params":[]}`,
		`{"jsonrpc":"2.0","id":4,"method":"add","params":["x"]}`,
		`{"jsonrpc":"2.0","id":5,"method":"add","params":{"a":1}}`,
		`{"jsonrpc":"1.0","id":6,"method":"add","params":[1]}`,
		`{"id":7,"method":"add","params":[1]}`,
		`{"jsonrpc":"2.0","id":{},"method":"add","params":[1]}`,
		`{"jsonrpc":"2.0","id":8}`,
		`null`,
		`{}`,
	}
	bad := []string{`1`, `"x"`, `[]`, `[1]`, `{"jsonrpc":"2.0","id":9,"method":5}`, `{"jsonrpc":2,"id":10,"method":"add"}`}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		pool := good
		if round%2 == 1 {
			pool = append(append([]string{}, good...), bad...)
		}
		calls := make([]string, 1+rng.IntN(8))
		var want []string
		for i := range calls {
			calls[i] = pool[rng.IntN(len(pool))]
			if enc := s.encode(s.handle(ctx, []byte(calls[i])), s.cfg.MaxResponseBytes); enc != nil {
				want = append(want, string(enc))
			}
		}
		got := string(s.handleBody(ctx, []byte("["+strings.Join(calls, ",")+"]")))
		wantBody := ""
		if want != nil {
			wantBody = "[" + strings.Join(want, ",") + "]"
		}
		if got != wantBody {
			t.Fatalf("batch [%s]:\n got %s\nwant %s", strings.Join(calls, ","), got, wantBody)
		}
	}
}
