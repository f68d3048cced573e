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

// nodeProc is one node process.
type nodeProc struct {
	index   int
	cmd     *exec.Cmd
	rpcURL  string
	p2pAddr string
	done    chan struct{}
}

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

// startNode runs `chaind node args...` with its output appended to logPath,
// and waits until it prints its RPC URL and P2P address.
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
		p.kill()
		return nil, fmt.Errorf("node %d did not start in time; see %s", index, logPath)
	}
}

func (p *nodeProc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to go.
func (p *nodeProc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// stop asks the node to shut down cleanly, killing it if it takes too long.
func (p *nodeProc) stop(timeout time.Duration) {
	if !p.alive() {
		return
	}
	interrupt(p.cmd.Process)
	select {
	case <-p.done:
	case <-time.After(timeout): // wall-clock: an OS process stopping
		p.kill()
	}
}

// pid is the process id.
func (p *nodeProc) pid() int { return p.cmd.Process.Pid }

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
