package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/rpc"
)

// The tests in this package run the built chaind binary as separate processes.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// chaindBinary builds cmd/chaind once per test run.
func chaindBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chaind-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "chaind")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build chaind: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// proc is a running chaind process.
type proc struct {
	cmd    *exec.Cmd
	url    string        // JSON-RPC
	p2p    string        // P2P listen address, or "off"
	stdout *lockedWriter // every line printed, for tests that read the banner
	stderr *lockedWriter
	done   chan struct{}
}

// startChaind runs `chaind args...`, waits until it prints its RPC URL and
// P2P address, and kills it when the test ends.
func startChaind(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(chaindBinary(t), args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdout: &lockedWriter{}, stderr: &lockedWriter{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.stdout.Write([]byte(sc.Text() + "\n"))
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 2 && f[0] == "RPC:":
				p.url = f[1]
			case len(f) == 2 && f[0] == "P2P:":
				p.p2p = f[1]
				close(ready)
			}
		}
		io.Copy(p.stdout, stdout)
	}()
	select {
	case <-ready:
	case <-p.done:
		t.Fatalf("chaind %v exited: %s", args, p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("chaind %v printed no RPC URL: %s", args, p.stderr)
	}
	return p
}

func (p *proc) client() *rpc.Client { return rpc.NewClient(p.url) }

// kill sends SIGKILL and waits for the process to go.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// lockedWriter collects a process's stderr for the test to read.
type lockedWriter struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// runChaind runs a chaind command to completion and returns its output.
func runChaind(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, chaindBinary(t), args...).CombinedOutput()
	return string(out), err
}
