//go:build !linux

package testnet

import (
	"os"
	"os/exec"
)

func lockThread() {}

// setDeathSignal has no portable equivalent; the supervisor stops its nodes
// on every normal exit path.
func setDeathSignal(*exec.Cmd) {}

func interrupt(p *os.Process) { p.Signal(os.Interrupt) }
