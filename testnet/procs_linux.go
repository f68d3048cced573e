package testnet

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

func lockThread() { runtime.LockOSThread() }

// setDeathSignal makes the kernel kill the node if the supervisor dies, so
// that no node outlives it, even after a SIGKILL or a failed test.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

func interrupt(p *os.Process) { p.Signal(syscall.SIGTERM) }
