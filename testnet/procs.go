package testnet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// processes is the provider of today's testnet: every node is a child
// process of the supervisor on 127.0.0.1.
type processes struct {
	binary string // the chaind executable
	spawn  spawner
}

var _ Provider = (*processes)(nil)

func (*processes) Setup() error    { return nil }
func (*processes) Teardown() error { return nil }

// StartNode runs the node on ports of the kernel's choosing; its peers are
// the proxies on 127.0.0.1, which it trusts.
func (p *processes) StartNode(i int, logPath string, args NodeArgs) (Node, error) {
	cmd := append([]string{"node"}, args...)
	cmd = append(cmd, "--rpc.addr", "127.0.0.1:0", "--p2p.addr", "127.0.0.1:0", "--p2p.trustloopback")
	return p.spawn.startNode(p.binary, i, logPath, cmd)
}

// nodeProc is one node process, or the docker CLI attached to a node's
// container.
type nodeProc struct {
	index   int
	cmd     *exec.Cmd
	rpcURL  string
	p2pAddr string
	done    chan struct{}
	// onKill, when set, runs before the process is killed: the docker
	// provider kills the container, which the CLI's death would not.
	onKill func()
}

var _ Node = (*nodeProc)(nil)

// spawner starts processes from one goroutine locked to its OS thread, so
// that on Linux the children's parent-death signal fires only when the
// supervisor itself dies (it is tied to the thread that forked them).
type spawner struct {
	reqs chan spawnReq
	once sync.Once
}

type spawnReq struct {
	cmd  *exec.Cmd
	errc chan error
}

func (s *spawner) start(cmd *exec.Cmd) error {
	s.once.Do(func() {
		s.reqs = make(chan spawnReq)
		go func() {
			lockThread()
			for r := range s.reqs {
				setDeathSignal(r.cmd)
				r.errc <- r.cmd.Start()
			}
		}()
	})
	errc := make(chan error)
	s.reqs <- spawnReq{cmd: cmd, errc: errc}
	return <-errc
}

// startNode runs binary args... (a chaind node, or docker running one) with
// its output appended to logPath, and waits until the node prints its RPC
// URL and P2P address.
func (s *spawner) startNode(binary string, index int, logPath string, args []string) (*nodeProc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("node %d log: %w", index, err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := s.start(cmd); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start node %d: %w", index, err)
	}
	p := &nodeProc{index: index, cmd: cmd, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			f := strings.Fields(line)
			switch {
			case len(f) == 2 && f[0] == "RPC:":
				p.rpcURL = f[1]
			case len(f) == 2 && f[0] == "P2P:":
				p.p2pAddr = f[1]
				close(ready)
			}
		}
		io.Copy(logf, stdout)
	}()
	go func() {
		cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	select {
	case <-ready:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("node %d exited at start; see %s", index, logPath)
	case <-time.After(60 * time.Second): // wall-clock: an OS process starting
		p.Kill()
		return nil, fmt.Errorf("node %d did not start in time; see %s", index, logPath)
	}
}

func (p *nodeProc) RPCURL() string  { return p.rpcURL }
func (p *nodeProc) P2PAddr() string { return p.p2pAddr }

// Alive reports whether the process still runs.
func (p *nodeProc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL and waits for the process to go.
func (p *nodeProc) Kill() {
	if p.onKill != nil {
		p.onKill()
	}
	p.cmd.Process.Kill()
	<-p.done
}

// Stop asks the node to shut down cleanly (SIGTERM, which the docker CLI
// passes on to its container), killing it if it takes too long.
func (p *nodeProc) Stop(timeout time.Duration) {
	if !p.Alive() {
		return
	}
	interrupt(p.cmd.Process)
	select {
	case <-p.done:
	case <-time.After(timeout): // wall-clock: an OS process stopping
		p.Kill()
	}
}

// PID is the process id.
func (p *nodeProc) PID() int { return p.cmd.Process.Pid }

// chaindBinary is the chaind executable to run nodes with: this program
// itself unless told otherwise.
func chaindBinary(configured string) (string, error) {
	if configured != "" {
		return filepath.Abs(configured)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", errors.New("cannot find the chaind binary; pass it explicitly")
	}
	return exe, nil
}
