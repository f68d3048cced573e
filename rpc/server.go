package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chaind/chaind/clock"
	"github.com/gorilla/mux"
)

// Limits on what one request may ask, as geth sets them.
const (
	DefaultMaxBodyBytes     = 5 << 20
	DefaultMaxBatch         = 1000
	DefaultMaxResponseBytes = 25 << 20
	DefaultCallTimeout      = 10 * time.Second
)

// ServerConfig configures a Server; every field is optional.
type ServerConfig struct {
	Logger           *slog.Logger
	MaxBodyBytes     int64         // request size limit; DefaultMaxBodyBytes
	MaxBatch         int           // calls per batch; DefaultMaxBatch
	MaxResponseBytes int           // bytes of one answer or one batch of answers; DefaultMaxResponseBytes
	CallTimeout      time.Duration // deadline of the calls of one request or batch; DefaultCallTimeout
	// VHosts are the host names an HTTP request's Host header may carry
	// (DNS-rebinding protection). nil means "localhost"; "*" allows any.
	// Requests addressed to an IP address are always allowed.
	VHosts []string
	// CORSDomains are the origins browsers may call from; nil allows none.
	// "*" allows any. A request without an Origin header (not from a
	// browser) is always allowed.
	CORSDomains []string
	// Observe, when set, is called after every call with its method name,
	// duration and error (nil on success); metrics plug in here.
	Observe func(method string, d time.Duration, err error)
	Clock   clock.Clock // reads time for Observe and filter expiry; clock.Real
	WS      WSConfig
}

// Server dispatches JSON-RPC 2.0 requests to registered handlers, over HTTP
// and WebSocket.
type Server struct {
	cfg     ServerConfig
	methods map[string]*method
	// preparers are run once per batch for the calls to their method
	preparers map[string]Preparer
	log       *slog.Logger
	router    *mux.Router
	hosts     allowList
	origins   allowList

	connMu    sync.Mutex // guards conns, upgrading and closed
	conns     map[*wsConn]struct{}
	upgrading int // WebSocket upgrades under way, counted against WS.MaxConns
	closed    bool
	wg        sync.WaitGroup // WebSocket goroutines
	hub       *hub           // subscriptions' notifications
}

// method is a registered handler of the form
// func(ctx context.Context, a A, b *B, ...) (R, error); trailing pointer
// arguments are optional and nil when absent.
type method struct {
	fn       reflect.Value
	args     []reflect.Type
	required int
}

var (
	ctxType   = reflect.TypeFor[context.Context]()
	errorType = reflect.TypeFor[error]()
)

// NewServer returns a server with no methods and default limits.
func NewServer(log *slog.Logger) *Server { return NewServerWith(ServerConfig{Logger: log}) }

// NewServerWith returns a server with no methods, configured by cfg.
func NewServerWith(cfg ServerConfig) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.VHosts == nil {
		cfg.VHosts = []string{"localhost"}
	}
	cfg.Clock = clock.OrReal(cfg.Clock)
	cfg.WS.fill()
	s := &Server{cfg: cfg, methods: make(map[string]*method), log: cfg.Logger,
		hosts: newAllowList(cfg.VHosts), origins: newAllowList(cfg.CORSDomains)}
	s.hub = newHub(cfg.WS, cfg.Clock)
	s.router = s.newRouter()
	return s
}

// SetMaxBodyBytes changes the request size limit.
func (s *Server) SetMaxBodyBytes(n int64) { s.cfg.MaxBodyBytes = n }

// Register adds a handler; fn must be func(context.Context, args...) (R, error).
func (s *Server) Register(name string, fn any) error {
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func || t.NumIn() < 1 || t.In(0) != ctxType || t.NumOut() != 2 || t.Out(1) != errorType {
		return fmt.Errorf("register %s: want func(context.Context, ...) (R, error), got %s", name, t)
	}
	m := &method{fn: v}
	for i := 1; i < t.NumIn(); i++ {
		m.args = append(m.args, t.In(i))
	}
	m.required = len(m.args)
	for m.required > 0 && m.args[m.required-1].Kind() == reflect.Pointer {
		m.required--
	}
	s.methods[name] = m
	return nil
}

// Methods lists the registered method names.
func (s *Server) Methods() []string {
	out := make([]string, 0, len(s.methods))
	for name := range s.methods {
		out = append(out, name)
	}
	return out
}

type request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

var nullID = json.RawMessage("null")

// handleBody serves a request body, one call or a batch, and returns the
// encoded answer, or nil when there is nothing to answer (notifications).
//
// The calls of one body share one deadline (CallTimeout), so that a batch
// cannot take a thousand times the time of one call.
func (s *Server) handleBody(ctx context.Context, body []byte) []byte {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '[' {
		return s.encode(s.handle(ctx, body), s.cfg.MaxResponseBytes)
	}
	// The common batch, an array of well-formed calls, decodes in one pass;
	// anything else is split into raw calls, each answered on its own.
	var reqs []request
	var raws []json.RawMessage
	if json.Unmarshal(body, &reqs) != nil {
		reqs = nil
		if err := json.Unmarshal(body, &raws); err != nil {
			return s.encode(errorResponse(nullID, newError(CodeParseError, KindParse, "parse error: "+err.Error())), s.cfg.MaxResponseBytes)
		}
	}
	n := max(len(reqs), len(raws))
	if n == 0 {
		return s.encode(errorResponse(nullID, newError(CodeInvalidRequest, KindInvalidRequest, "invalid request: empty batch")), s.cfg.MaxResponseBytes)
	}
	if n > s.cfg.MaxBatch {
		return s.encode(errorResponse(nullID, newError(CodeInvalidRequest, KindLimit,
			fmt.Sprintf("invalid request: batch of %d calls exceeds the limit of %d", n, s.cfg.MaxBatch))), s.cfg.MaxResponseBytes)
	}
	var ctxs []context.Context
	if reqs != nil {
		ctxs = s.prepareBatch(ctx, reqs)
	}
	var out bytes.Buffer
	out.WriteByte('[')
	budget := s.cfg.MaxResponseBytes
	for i := range n {
		var resp *response
		if reqs != nil {
			resp = s.serve(ctxs[i], &reqs[i])
		} else {
			resp = s.handle(ctx, raws[i])
		}
		if resp == nil {
			continue
		}
		if budget <= 0 { // the batch already answered as much as one response may hold
			resp = errorResponse(resp.ID, errResponseTooLarge(s.cfg.MaxResponseBytes))
		}
		enc := s.encode(resp, budget)
		budget -= len(enc)
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		out.Write(enc)
	}
	if out.Len() == 1 { // only notifications
		return nil
	}
	out.WriteByte(']')
	return out.Bytes()
}

// encode marshals resp; an answer larger than limit (what is left of a
// batch's budget) is replaced by an error.
func (s *Server) encode(resp *response, limit int) []byte {
	if resp == nil {
		return nil
	}
	if len(resp.Result) > limit {
		resp = errorResponse(resp.ID, errResponseTooLarge(s.cfg.MaxResponseBytes))
	}
	enc, err := json.Marshal(resp)
	if err != nil { // cannot happen: every part is valid JSON
		s.log.Error("RPC response not encoded", "err", err)
		enc, _ = json.Marshal(errorResponse(nullID, newError(CodeInternal, KindInternal, "internal error")))
	}
	return enc
}

func errResponseTooLarge(limit int) *Error {
	return newError(CodeServerError, KindLimit, fmt.Sprintf("response too large: the limit is %d bytes", limit))
}

// handle serves one call; it returns nil for a notification.
func (s *Server) handle(ctx context.Context, raw json.RawMessage) *response {
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return errorResponse(nullID, newError(CodeParseError, KindParse, "parse error: "+err.Error()))
		}
		return errorResponse(nullID, newError(CodeInvalidRequest, KindInvalidRequest, "invalid request: "+err.Error()))
	}
	return s.serve(ctx, &req)
}

// serve answers one decoded call; it returns nil for a notification.
func (s *Server) serve(ctx context.Context, req *request) *response {
	id := req.ID
	notification := id == nil
	if id == nil {
		id = nullID
	}
	if !validID(id) {
		return errorResponse(nullID, newError(CodeInvalidRequest, KindInvalidRequest, "invalid request: id must be a string of valid UTF-8, a number or null"))
	}
	if req.JSONRPC != "2.0" {
		return errorResponse(id, newError(CodeInvalidRequest, KindInvalidRequest, `invalid request: "jsonrpc" must be "2.0"`))
	}
	if req.Method == "" {
		return errorResponse(id, newError(CodeInvalidRequest, KindInvalidRequest, "invalid request: missing method"))
	}
	start := s.cfg.Clock.Now()
	result, rpcErr := s.call(ctx, req.Method, req.Params)
	if len(result) > s.cfg.MaxResponseBytes {
		result, rpcErr = nil, errResponseTooLarge(s.cfg.MaxResponseBytes)
	}
	if s.cfg.Observe != nil {
		var err error
		if rpcErr != nil {
			err = rpcErr
		}
		s.cfg.Observe(req.Method, s.cfg.Clock.Now().Sub(start), err)
	}
	if s.log.Enabled(ctx, slog.LevelDebug) { // the params' copy costs on every call otherwise
		s.log.Debug("RPC call", "method", req.Method, "params", truncate(req.Params, 200), "err", rpcErr)
	}
	if notification {
		return nil
	}
	if rpcErr != nil {
		return errorResponse(id, rpcErr)
	}
	return &response{JSONRPC: "2.0", ID: id, Result: result}
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// validID accepts what JSON-RPC allows as an id: a string (of valid UTF-8,
// so that the echoed answer is valid JSON), a number or null.
func validID(id json.RawMessage) bool {
	switch id[0] {
	case '"':
		var s string
		return utf8.Valid(id) && json.Unmarshal(id, &s) == nil
	case 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return true
	}
	return false
}

// call runs the method and returns its encoded result.
func (s *Server) call(ctx context.Context, name string, params json.RawMessage) (result json.RawMessage, rpcErr *Error) {
	m, ok := s.methods[name]
	if !ok {
		return nil, newError(CodeMethodNotFound, KindMethodNotFound, fmt.Sprintf("the method %s does not exist/is not available", name))
	}
	args, rpcErr := m.decodeArgs(params)
	if rpcErr != nil {
		return nil, rpcErr
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("RPC handler panicked", "method", name, "panic", p, "stack", string(debug.Stack()))
			result, rpcErr = nil, newError(CodeInternal, KindInternal, "internal error")
		}
	}()
	out := m.fn.Call(append([]reflect.Value{reflect.ValueOf(ctx)}, args...))
	if err, _ := out[1].Interface().(error); err != nil {
		return nil, toError(err)
	}
	enc, err := json.Marshal(out[0].Interface())
	if err != nil {
		s.log.Error("RPC result not encoded", "method", name, "err", err)
		return nil, newError(CodeInternal, KindInternal, "internal error: result not encoded")
	}
	return enc, nil
}

func (m *method) decodeArgs(params json.RawMessage) ([]reflect.Value, *Error) {
	var raws []json.RawMessage
	params = bytes.TrimSpace(params)
	switch {
	case len(params) == 0 || string(params) == "null":
	case params[0] == '[':
		if err := json.Unmarshal(params, &raws); err != nil {
			return nil, invalidParams("%v", err)
		}
	default:
		return nil, invalidParams("params must be an array (named params are not supported)")
	}
	if len(raws) > len(m.args) {
		return nil, invalidParams("too many arguments: got %d, want at most %d", len(raws), len(m.args))
	}
	args := make([]reflect.Value, len(m.args))
	for i, t := range m.args {
		if i >= len(raws) || string(raws[i]) == "null" {
			if i < m.required {
				return nil, invalidParams("missing value for required argument %d", i)
			}
			args[i] = reflect.Zero(t)
			continue
		}
		v := reflect.New(t)
		if err := json.Unmarshal(raws[i], v.Interface()); err != nil {
			return nil, invalidParams("argument %d: %v", i, err)
		}
		args[i] = v.Elem()
	}
	return args, nil
}

func errorResponse(id json.RawMessage, e *Error) *response {
	return &response{JSONRPC: "2.0", ID: id, Error: e}
}

// allowList matches host names or origins against a configured list.
type allowList struct {
	any   bool
	names map[string]bool
}

func newAllowList(names []string) allowList {
	l := allowList{names: make(map[string]bool)}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "*" {
			l.any = true
		}
		l.names[n] = true
	}
	return l
}

func (l allowList) allows(name string) bool { return l.any || l.names[strings.ToLower(name)] }
