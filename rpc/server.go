package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"time"

	"github.com/gorilla/mux"
)

// Limits on what one HTTP request may ask.
const (
	DefaultMaxBodyBytes = 5 << 20
	DefaultMaxBatch     = 1000
)

// Server dispatches JSON-RPC 2.0 requests to registered handlers.
type Server struct {
	methods  map[string]*method
	maxBody  int64
	maxBatch int
	log      *slog.Logger
	router   *mux.Router
	observe  func(method string, d time.Duration) // optional
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
func NewServer(log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{methods: make(map[string]*method), maxBody: DefaultMaxBodyBytes, maxBatch: DefaultMaxBatch, log: log}
	s.router = mux.NewRouter()
	s.router.HandleFunc("/", s.serveRPC).Methods(http.MethodPost)
	s.router.HandleFunc("/", s.serveInfo).Methods(http.MethodGet)
	return s
}

// Handle serves h for GET requests on path beside the JSON-RPC endpoint,
// such as a metrics handler on /metrics.
func (s *Server) Handle(path string, h http.Handler) {
	s.router.Handle(path, h).Methods(http.MethodGet)
}

// SetObserver has fn called after each call of a registered method with
// the time it took (unknown method names are not passed on). Set it before
// serving.
func (s *Server) SetObserver(fn func(method string, d time.Duration)) { s.observe = fn }

// SetMaxBodyBytes changes the request size limit.
func (s *Server) SetMaxBodyBytes(n int64) { s.maxBody = n }

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

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

func (s *Server) serveInfo(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "chaind JSON-RPC 2.0: send POST requests with a JSON body to this URL.")
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
	Result  any             `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

var nullID = json.RawMessage("null")

func (s *Server) serveRPC(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorResponse(nullID, &Error{Code: CodeInvalidRequest,
				Message: fmt.Sprintf("request body too large: the limit is %d bytes", s.maxBody)}))
			return
		}
		writeJSON(w, http.StatusBadRequest, errorResponse(nullID, &Error{Code: CodeInvalidRequest, Message: "cannot read request body: " + err.Error()}))
		return
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(body, &raws); err != nil {
			writeJSON(w, http.StatusOK, errorResponse(nullID, &Error{Code: CodeParseError, Message: "parse error: " + err.Error()}))
			return
		}
		if len(raws) == 0 {
			writeJSON(w, http.StatusOK, errorResponse(nullID, &Error{Code: CodeInvalidRequest, Message: "invalid request: empty batch"}))
			return
		}
		if len(raws) > s.maxBatch {
			writeJSON(w, http.StatusOK, errorResponse(nullID, &Error{Code: CodeInvalidRequest,
				Message: fmt.Sprintf("invalid request: batch of %d calls exceeds the limit of %d", len(raws), s.maxBatch)}))
			return
		}
		out := make([]*response, 0, len(raws))
		for _, raw := range raws {
			if resp := s.handle(r.Context(), raw); resp != nil {
				out = append(out, resp)
			}
		}
		if len(out) == 0 { // only notifications
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	resp := s.handle(r.Context(), body)
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// handle serves one call; it returns nil for a notification.
func (s *Server) handle(ctx context.Context, raw json.RawMessage) *response {
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return errorResponse(nullID, &Error{Code: CodeParseError, Message: "parse error: " + err.Error()})
		}
		return errorResponse(nullID, &Error{Code: CodeInvalidRequest, Message: "invalid request: " + err.Error()})
	}
	id := req.ID
	notification := id == nil
	if id == nil {
		id = nullID
	}
	if !validID(id) {
		return errorResponse(nullID, &Error{Code: CodeInvalidRequest, Message: "invalid request: id must be a string, a number or null"})
	}
	if req.JSONRPC != "2.0" {
		return errorResponse(id, &Error{Code: CodeInvalidRequest, Message: `invalid request: "jsonrpc" must be "2.0"`})
	}
	if req.Method == "" {
		return errorResponse(id, &Error{Code: CodeInvalidRequest, Message: "invalid request: missing method"})
	}
	result, rpcErr := s.call(ctx, req.Method, req.Params)
	s.log.Debug("RPC call", "method", req.Method, "params", string(req.Params), "err", rpcErr)
	if notification {
		return nil
	}
	if rpcErr != nil {
		return errorResponse(id, rpcErr)
	}
	return &response{JSONRPC: "2.0", ID: id, Result: resultOrNull{result}}
}

func validID(id json.RawMessage) bool {
	switch id[0] {
	case '"', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return true
	}
	return false
}

// resultOrNull makes a nil result encode as JSON null instead of being omitted.
type resultOrNull struct{ v any }

func (r resultOrNull) MarshalJSON() ([]byte, error) { return json.Marshal(r.v) }

func (s *Server) call(ctx context.Context, name string, params json.RawMessage) (result any, rpcErr *Error) {
	m, ok := s.methods[name]
	if !ok {
		return nil, &Error{Code: CodeMethodNotFound, Message: fmt.Sprintf("the method %s does not exist/is not available", name)}
	}
	if s.observe != nil {
		defer func(start time.Time) { s.observe(name, time.Since(start)) }(time.Now())
	}
	args, rpcErr := m.decodeArgs(params)
	if rpcErr != nil {
		return nil, rpcErr
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("RPC handler panicked", "method", name, "panic", p, "stack", string(debug.Stack()))
			result, rpcErr = nil, &Error{Code: CodeInternal, Message: "internal error"}
		}
	}()
	out := m.fn.Call(append([]reflect.Value{reflect.ValueOf(ctx)}, args...))
	if err, _ := out[1].Interface().(error); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, &Error{Code: CodeServerError, Message: err.Error()}
	}
	return out[0].Interface(), nil
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("RPC response not written", "err", err)
	}
}
