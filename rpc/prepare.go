package rpc

import (
	"context"
	"encoding/json"
	"fmt"
)

// A Preparer does, once for all the calls of one batch to its method,
// work that the calls would otherwise do one after another (for
// eth_sendRawTransaction: the sender recoveries, on all cores). Given the
// params of those calls in order, it returns one value per call, nil where
// it prepared nothing; each call's handler reads its value with
// prepared(ctx). The calls are still served one by one, in order, and a
// handler must answer the same with or without its value.
type Preparer func(params []json.RawMessage) []any

// RegisterPreparer adds a Preparer for a registered method.
func (s *Server) RegisterPreparer(name string, p Preparer) error {
	if s.methods[name] == nil {
		return fmt.Errorf("register preparer of %s: no such method", name)
	}
	if s.preparers == nil {
		s.preparers = make(map[string]Preparer)
	}
	s.preparers[name] = p
	return nil
}

type preparedKey struct{}

// prepared is the value a Preparer returned for the call served with ctx,
// or nil.
func prepared(ctx context.Context) any { return ctx.Value(preparedKey{}) }

// prepareBatch runs the preparers of the methods a decoded batch calls and
// returns one context per call (ctx itself where nothing was prepared).
func (s *Server) prepareBatch(ctx context.Context, reqs []request) []context.Context {
	out := make([]context.Context, len(reqs))
	for i := range out {
		out[i] = ctx
	}
	byMethod := make(map[string][]int)
	for i, r := range reqs {
		if s.preparers[r.Method] != nil {
			byMethod[r.Method] = append(byMethod[r.Method], i)
		}
	}
	for name, idx := range byMethod {
		params := make([]json.RawMessage, len(idx))
		for j, i := range idx {
			params[j] = reqs[i].Params
		}
		for j, v := range s.preparers[name](params) {
			if v != nil && j < len(idx) {
				out[idx[j]] = context.WithValue(ctx, preparedKey{}, v)
			}
		}
	}
	return out
}
