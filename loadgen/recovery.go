package loadgen

import (
	"fmt"
	"math/big"
	"runtime"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// recoverySample is how many signatures RecoveryCost recovers: about a
// tenth of a second of one core, long enough for the process's CPU clock.
const recoverySample = 2000

// RecoveryCost is the reference the node's CPU per transfer is held
// against: the CPU time of one sender recovery (the one step every node
// must do per transfer), measured in this process on one goroutine over
// up to recoverySample of the transfers the run sends, decoded afresh so
// that no cached sender is reused. It reads the process's CPU time, so it
// is taken while the load generator does nothing else.
func RecoveryCost(signed [][]hexutil.Bytes, chainID *big.Int) (time.Duration, error) {
	var txs []*types.Transaction
	for i := 0; len(txs) < recoverySample; i++ {
		row := signed[i%len(signed)]
		if i/len(signed) >= len(row) {
			break
		}
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(row[i/len(signed)]); err != nil {
			return 0, fmt.Errorf("recovery reference: %w", err)
		}
		txs = append(txs, tx)
	}
	if len(txs) == 0 {
		return 0, fmt.Errorf("recovery reference: no transfers")
	}
	signer := types.LatestSignerForChainID(chainID)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, err := selfCPU()
	if err != nil {
		return 0, err
	}
	for _, tx := range txs {
		if _, err := types.Sender(signer, tx); err != nil {
			return 0, fmt.Errorf("recovery reference: %w", err)
		}
	}
	t1, err := selfCPU()
	if err != nil {
		return 0, err
	}
	return (t1 - t0) / time.Duration(len(txs)), nil
}

// selfCPU is this process's CPU time, user and system.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
