package rpc

import "fmt"

// Standard JSON-RPC 2.0 error codes, and the one Ethereum nodes use for a
// refused transaction or a failed call.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternal       = -32603
	CodeServerError    = -32000
)

// Error is a JSON-RPC error object; handlers return it to choose the code.
// Other errors a handler returns are sent as CodeServerError with the error
// text as the message.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// invalidParams returns a CodeInvalidParams error.
func invalidParams(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidParams, Message: "invalid params: " + fmt.Sprintf(format, args...)}
}
