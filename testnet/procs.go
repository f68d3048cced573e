package testnet

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// processes is the provider of today's testnet: every node is a child
// process of the supervisor. Node i has a loopback address of its own,
// 127.B.C.(i+2) with B.C drawn from the testnet's directory (Linux routes
// all of 127.0.0.0/8 to the loopback interface), and a P2P port reserved
// there at Setup, so that its peers can be told its address before it
// starts and again after a restart; it dials them from that address too
// (p2p.TCPFor), so each node tells its peers apart by IP and shapes its own
// links (directLinks), as containers do.
type processes struct {
	binary string           // the chaind executable
	base   netip.Addr       // 127.B.C.0
	addrs  []netip.AddrPort // node i's P2P address, set by Setup
	spawn  spawner
}

var _ Provider = (*processes)(nil)

func newProcesses(opts Options, binary string) *processes {
	abs, err := filepath.Abs(opts.Dir)
	if err != nil {
		abs = opts.Dir
	}
	sum := sha256.Sum256([]byte(abs))
	return &processes{binary: binary, base: netip.AddrFrom4([4]byte{127, sum[0], sum[1], 0}), addrs: make([]netip.AddrPort, opts.Nodes)}
}

// Setup reserves each node's P2P port on its address: the kernel picks a
// free one, which is let go at once for the node to listen on.
func (p *processes) Setup() error {
	ip := p.base.Next()
	for i := range p.addrs {
		ip = ip.Next()
		ln, err := net.Listen("tcp", netip.AddrPortFrom(ip, 0).String())
		if err != nil {
			return fmt.Errorf("testnet: node %d's loopback address %s (the process backend gives each node one of 127.0.0.0/8, which Linux routes to lo; elsewhere add it as an alias of the loopback interface or use --backend docker): %w", i, ip, err)
		}
		p.addrs[i] = netip.MustParseAddrPort(ln.Addr().String())
		ln.Close()
	}
	return nil
}

func (*processes) Teardown() error { return nil }

// PeerAddr is node i's P2P address (directLinks).
func (p *processes) PeerAddr(i int) string { return p.addrs[i].String() }

// PeerIP is node i's loopback address.
func (p *processes) PeerIP(i int) string { return p.addrs[i].Addr().String() }

// StartNode runs the node on its own loopback address, its P2P port the
// one Setup reserved, its RPC port of the kernel's choosing; its peers are
// on loopback addresses too, which it trusts beyond the per-IP limits.
func (p *processes) StartNode(i int, logPath string, args NodeArgs) (Node, error) {
	cmd := append([]string{"node"}, args...)
	cmd = append(cmd, "--rpc.addr", netip.AddrPortFrom(p.addrs[i].Addr(), 0).String(), "--p2p.addr", p.PeerAddr(i), "--p2p.trustloopback")
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
