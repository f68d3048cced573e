package chain

import (
	"errors"
	"fmt"
)

// ErrorKind identifies a kind of rule violation. It is a stable string that a
// peer or an RPC caller can rely on; use errors.Is(err, ErrBadStateRoot) to test.
type ErrorKind string

// Error implements error.
func (k ErrorKind) Error() string { return string(k) }

// Block rule violations.
const (
	ErrUnknownParent    = ErrorKind("unknown parent")
	ErrBadHeight        = ErrorKind("bad height")
	ErrBadTime          = ErrorKind("bad timestamp")
	ErrFutureBlock      = ErrorKind("block from the future")
	ErrBadTxRoot        = ErrorKind("bad transaction root")
	ErrBadConsensusRoot = ErrorKind("bad consensus body root")
	ErrConsensusBody    = ErrorKind("consensus body not taken by this engine")
	ErrBadStateRoot     = ErrorKind("bad state root")
	ErrBadReceiptRoot   = ErrorKind("bad receipt root")
	ErrBadGasLimit      = ErrorKind("bad gas limit")
	ErrBadBaseFee       = ErrorKind("bad base fee")
	ErrBadGasUsed       = ErrorKind("bad gas used")
	ErrBlockTooLarge    = ErrorKind("block too large")
	ErrBadSeal          = ErrorKind("bad seal")
	ErrBadProof         = ErrorKind("bad proof")
	ErrConsensus        = ErrorKind("consensus rule violated")
	ErrInvalidAncestor  = ErrorKind("invalid ancestor")
	ErrRevertsFinalized = ErrorKind("branch reverts a finalized block")
	ErrInvalidTx        = ErrorKind("invalid transaction")
)

// Transaction rule violations, shared by block validation and the mempool.
const (
	ErrTxType            = ErrorKind("transaction type not supported")
	ErrUnprotected       = ErrorKind("transaction not replay-protected")
	ErrWrongChainID      = ErrorKind("wrong chain id")
	ErrBadSignature      = ErrorKind("invalid signature")
	ErrContractCreation  = ErrorKind("contract creation not supported")
	ErrCalldata          = ErrorKind("calldata not supported")
	ErrIntrinsicGas      = ErrorKind("intrinsic gas too low")
	ErrGasLimit          = ErrorKind("gas limit exceeds block gas limit")
	ErrFeeCapTooLow      = ErrorKind("max fee per gas less than block base fee")
	ErrTipAboveFeeCap    = ErrorKind("max priority fee per gas higher than max fee per gas")
	ErrNonceTooLow       = ErrorKind("nonce too low")
	ErrNonceTooHigh      = ErrorKind("nonce too high")
	ErrInsufficientFunds = ErrorKind("insufficient funds for gas * price + value")
	ErrValueTooLarge     = ErrorKind("value or fee out of range")
	ErrTxTooLarge        = ErrorKind("transaction too large")
)

// ErrKnownBlock is returned when a block is already in the store. It is not a
// rule violation: peers may legitimately send a block twice.
var ErrKnownBlock = errors.New("block already known")

// RuleError is a violation of a chain rule. Kind is stable; Description says
// what exactly was wrong.
type RuleError struct {
	Kind        ErrorKind
	Description string
}

// Error implements error.
func (e RuleError) Error() string { return e.Description }

// Unwrap lets errors.Is match the kind.
func (e RuleError) Unwrap() error { return e.Kind }

// NewRuleError returns a RuleError of the given kind whose description is
// the kind followed by the formatted detail. Engines use it for their own
// kinds, so that every rule violation reads and unwraps the same way.
func NewRuleError(kind ErrorKind, format string, args ...any) error {
	return RuleError{Kind: kind, Description: string(kind) + ": " + fmt.Sprintf(format, args...)}
}

// IsRuleError reports whether err is a rule violation, that is, the fault of
// whoever produced the block or transaction rather than of the local node.
func IsRuleError(err error) bool {
	var re RuleError
	return errors.As(err, &re)
}
