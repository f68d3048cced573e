package main

// The supervisor as a process: up --detach starts it in the background and
// reports its own error if it exits; down stops it through its control API
// or, failing that, by the pid in its directory's lock.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/chaind/chaind/testnet"
)

// detachSupervisor starts this command again without --detach, in its own
// session, logging to DIR/supervisor.log, and returns once it answers. If
// the supervisor exits first, its error is this command's.
func detachSupervisor(dir string, args []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	logPath := filepath.Join(dir, "supervisor.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	logStart, err := logf.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	var rest []string
	for _, a := range args {
		if a != "--detach" && a != "--detach=true" {
			rest = append(rest, a)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, append([]string{"testnet", "up"}, rest...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start supervisor: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(2 * time.Minute) // wall-clock: waiting for OS processes
	for {
		// testnet.json may be an earlier run's until this supervisor writes its own.
		if c, err := testnet.Dial(dir); err == nil && c.State.PID == cmd.Process.Pid && everyNodeUp(c.State) {
			fmt.Printf("testnet supervisor running in the background (pid %d); log in %s\n", cmd.Process.Pid, logPath)
			fmt.Printf("  Dashboard: %s\n", c.State.Dashboard)
			for _, n := range c.State.Nodes {
				fmt.Printf("  node %d  RPC %s\n", n.Index, n.RPC)
			}
			fmt.Printf("  funded account %s, key in %s\n", c.State.FundedAddr.Hex(), c.State.FundedKey)
			if c.State.Prometheus != "" {
				fmt.Printf("  Prometheus: %s\n", c.State.Prometheus)
			}
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the supervisor exited (%v): %s (log: %s)", err, supervisorError(logPath, logStart), logPath)
		case <-deadline:
			cmd.Process.Kill()
			return errors.New("the supervisor did not come up in time")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// supervisorError returns the error a supervisor printed to its log after
// offset (main's "chaind: " line), or the log's last line.
func supervisorError(logPath string, offset int64) string {
	data, err := os.ReadFile(logPath)
	if err != nil || offset > int64(len(data)) {
		return "no log"
	}
	lines := strings.Split(strings.TrimSpace(string(data[offset:])), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if msg, ok := strings.CutPrefix(lines[i], "chaind: "); ok {
			return msg
		}
	}
	return lines[len(lines)-1]
}

// everyNodeUp reports whether every node of st has started and has an RPC
// URL: the supervisor writes its state after each node starts, so an early
// read lists only the first nodes.
func everyNodeUp(st *testnet.State) bool {
	for _, n := range st.Nodes {
		if n.RPC == "" {
			return false
		}
	}
	return len(st.Nodes) > 0
}

func testnetDown(args []string) error {
	fs := newFlagSet("testnet down", "testnet down [--dir DIR]")
	dir := dirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	pid, locked, err := testnet.SupervisorPID(*dir)
	if err != nil {
		return err
	}
	c, dialErr := testnet.Dial(*dir)
	switch {
	case dialErr == nil:
		if err := call(c, nil, "testnet_down"); err != nil {
			return err
		}
		pid = c.State.PID
	case locked:
		// testnet.json is gone or stale, or the control API does not
		// answer: the supervisor holding the directory's lock stops its
		// nodes on SIGTERM.
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			return fmt.Errorf("stop the supervisor (pid %d): %w", pid, err)
		}
	default:
		return dialErr
	}
	deadline := time.Now().Add(60 * time.Second) // wall-clock: waiting for an OS process
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			fmt.Println("testnet down")
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the supervisor (pid %d) is still running", pid)
}
