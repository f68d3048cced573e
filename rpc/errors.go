package rpc

import (
	"errors"
	"fmt"

	"github.com/chaind/chaind/chain"
)

// Standard JSON-RPC 2.0 error codes, the one Ethereum nodes use for a
// refused transaction or a failed call, and geth's code for a reverted call.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternal       = -32603
	CodeServerError    = -32000
	CodeReverted       = 3
)

// Error kinds carried in error.data, so that a client can tell failures
// apart without parsing messages. A rule violation (a refused transaction)
// carries the chain's own ErrorKind text instead, such as "nonce too low".
const (
	KindParse          = "parse error"
	KindInvalidRequest = "invalid request"
	KindMethodNotFound = "method not found"
	KindInvalidParams  = "invalid params"
	KindInternal       = "internal"
	KindLimit          = "limit exceeded"
	KindNotFound       = "not found"
	KindUnsupported    = "not supported"
	KindServer         = "server error"
)

// Error is a JSON-RPC error object; handlers return it to choose the code.
// Other errors a handler returns are sent as CodeServerError with the error
// text as the message.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// ErrorData is the error.data object of chaind's errors.
type ErrorData struct {
	Kind string `json:"kind"`
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// newError returns an error of the given code whose data names kind.
func newError(code int, kind, msg string) *Error {
	return &Error{Code: code, Message: msg, Data: ErrorData{Kind: kind}}
}

// invalidParams returns a CodeInvalidParams error.
func invalidParams(format string, args ...any) *Error {
	return newError(CodeInvalidParams, KindInvalidParams, "invalid params: "+fmt.Sprintf(format, args...))
}

// toError turns a handler's error into a JSON-RPC error: an *Error as it is,
// a chain rule violation with its kind, anything else as a server error.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var kind chain.ErrorKind
	if errors.As(err, &kind) {
		return newError(CodeServerError, string(kind), err.Error())
	}
	if errors.Is(err, chain.ErrNotFound) {
		return newError(CodeServerError, KindNotFound, err.Error())
	}
	return newError(CodeServerError, KindServer, err.Error())
}
