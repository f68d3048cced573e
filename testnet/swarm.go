package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chaind/chaind/rpc"
	"github.com/chaind/chaind/testnet/manifest"
	"sigs.k8s.io/yaml"
)

// StackFile is the stack file the swarm backend writes to the testnet's
// directory and deploys: each node's service as the supervisor runs it now.
const StackFile = "swarm-stack.yml"

// swarm runs each node as a service of one replica in a stack deployed on
// the swarm the docker CLI reaches (a manager). The stack file is the
// desired state of every node: starting, killing or stopping a node
// rewrites it (the node's replicas 1 or 0) and deploys it again, so
// `docker stack deploy -c swarm-stack.yml` by hand gives the same stack.
//
// Service VIPs and the routing mesh need IPVS, which not every kernel has:
// the services use DNS round robin (endpoint_mode dnsrr) on the stack's
// overlay network, where the nodes dial each other by service name, and
// each node's RPC is published in host mode (no routing mesh) on a port of
// the host that runs its task, where the supervisor reaches it. A task's
// address on the overlay changes when it is started again; PeerIP follows
// it, and the supervisor moves the other nodes' link faults to it. The
// testnet's directory is bind-mounted at the same path into every task, so
// on several hosts it must be at that path on each (a shared mount).
type swarm struct {
	dir, image string
	stack      string // the stack's name, and the services' prefix
	nodes      int
	ports      []int // node i's RPC port on its host, chosen at Setup

	mu       sync.Mutex
	services []stackService // node i's service; Image "" until it starts
	ips      []string       // node i's task's address on the overlay
}

var _ Provider = (*swarm)(nil)

// The part of the Compose file format (3.8) the stack file uses.
type (
	stackFile struct {
		Version  string                  `json:"version"`
		Services map[string]stackService `json:"services"`
		Networks map[string]stackNetwork `json:"networks"`
	}
	stackNetwork struct {
		Driver string            `json:"driver"`
		Labels map[string]string `json:"labels"`
	}
	stackService struct {
		Image           string      `json:"image"`
		Command         []string    `json:"command"`
		Networks        []string    `json:"networks"`
		Volumes         []string    `json:"volumes"`
		Ports           []stackPort `json:"ports"`
		StopGracePeriod string      `json:"stop_grace_period"`
		Deploy          stackDeploy `json:"deploy"`
	}
	stackPort struct {
		Target    int    `json:"target"`
		Published int    `json:"published"`
		Mode      string `json:"mode"`
	}
	stackDeploy struct {
		Replicas      int    `json:"replicas"`
		EndpointMode  string `json:"endpoint_mode"`
		RestartPolicy struct {
			Condition string `json:"condition"`
		} `json:"restart_policy"`
	}
)

// stackNet is the stack's overlay network, STACK_chaind on the swarm.
const stackNet = "chaind"

func newSwarm(opts Options) *swarm {
	name, abs := orchestratedName(opts.Dir)
	return &swarm{dir: abs, image: opts.Image, nodes: opts.Nodes, stack: name,
		ports: make([]int, opts.Nodes), services: make([]stackService, opts.Nodes), ips: make([]string, opts.Nodes)}
}

// Setup checks that the CLI reaches a swarm manager that has the image,
// removes a stack a supervisor that died may have left, and chooses each
// node's RPC port: one the kernel finds free here.
func (w *swarm) Setup() error {
	state, err := dockerCmd("info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}")
	if err != nil {
		return fmt.Errorf("testnet: no Docker daemon to run the nodes: %w", err)
	}
	if state != "active true" {
		return fmt.Errorf("testnet: the Docker daemon is not a swarm manager (swarm %q): run docker swarm init, or use --backend docker", state)
	}
	if _, err := dockerCmd("image", "inspect", "--format", "{{.Id}}", w.image); err != nil {
		return fmt.Errorf("testnet: image %s not found; build it with chaind testnet image (on every host of the swarm): %w", w.image, err)
	}
	if err := w.Teardown(); err != nil {
		return err
	}
	for i := range w.ports {
		ln, err := net.Listen("tcp", ":0")
		if err != nil {
			return fmt.Errorf("testnet: a port for node %d's RPC: %w", i, err)
		}
		w.ports[i] = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	return nil
}

func (w *swarm) service(i int) string { return fmt.Sprintf("%s_node%d", w.stack, i) }

// PeerAddr is node i's service name on the overlay, which its peers dial.
func (w *swarm) PeerAddr(i int) string { return fmt.Sprintf("node%d:%d", i, manifest.P2PPort) }

// PeerIP is the overlay address of node i's latest task ("" before its
// first start).
func (w *swarm) PeerIP(i int) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ips[i]
}

// StartNode sets node i's service to one replica running args, deploys
// the stack, and waits for the new task to run and its node to answer.
func (w *swarm) StartNode(i int, logPath string, args NodeArgs) (Node, error) {
	cmd := append([]string{"node"}, args...)
	cmd = append(cmd, "--rpc.addr", fmt.Sprintf("0.0.0.0:%d", manifest.RPCPort), "--p2p.addr", fmt.Sprintf("0.0.0.0:%d", manifest.P2PPort))
	svc := stackService{Image: w.image, Command: cmd, Networks: []string{stackNet}, Volumes: []string{w.dir + ":" + w.dir},
		Ports: []stackPort{{Target: manifest.RPCPort, Published: w.ports[i], Mode: "host"}}, StopGracePeriod: "15s"}
	svc.Deploy.Replicas, svc.Deploy.EndpointMode = 1, "dnsrr"
	svc.Deploy.RestartPolicy.Condition = "none" // as a process: the supervisor restarts it
	since := time.Now()                         // wall-clock: the daemon's log times
	if err := w.deploy(i, svc); err != nil {
		return nil, err
	}
	task, host, ip, err := w.runningTask(i)
	if err != nil {
		return nil, err
	}
	n := &swarmNode{w: w, i: i, task: task, rpcURL: "http://" + net.JoinHostPort(host, fmt.Sprint(w.ports[i])),
		p2pAddr: net.JoinHostPort(ip, fmt.Sprint(manifest.P2PPort)), done: make(chan struct{})}
	if err := n.follow(logPath, since); err != nil {
		return nil, err
	}
	go n.watch()
	if err := waitRPC(n.rpcURL, n.done); err != nil {
		n.Kill()
		return nil, fmt.Errorf("node %d: %w; see %s", i, err, logPath)
	}
	w.mu.Lock()
	w.ips[i] = ip
	w.mu.Unlock()
	return n, nil
}

// deploy sets node i's service to svc, writes the stack file and deploys
// it; the other services are unchanged, so their tasks go on.
func (w *swarm) deploy(i int, svc stackService) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.services[i] = svc
	f := stackFile{Version: "3.8", Services: map[string]stackService{},
		Networks: map[string]stackNetwork{stackNet: {Driver: "overlay", Labels: map[string]string{"chaind.testnet": w.stack}}}}
	for j, s := range w.services {
		if s.Image != "" {
			f.Services[fmt.Sprintf("node%d", j)] = s
		}
	}
	data, err := yaml.Marshal(f)
	if err != nil {
		return fmt.Errorf("testnet: stack file: %w", err)
	}
	path := filepath.Join(w.dir, StackFile)
	head := fmt.Sprintf("# The chaind testnet's nodes as its supervisor runs them now: docker stack deploy --resolve-image never -c %s %s\n", StackFile, w.stack)
	if err := os.WriteFile(path, append([]byte(head), data...), 0o644); err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	// No registry is asked for the image: it was built on the hosts.
	if _, err := dockerCmd("stack", "deploy", "--resolve-image", "never", "--prune", "--compose-file", path, w.stack); err != nil {
		return fmt.Errorf("testnet: node %d: %w", i, err)
	}
	return nil
}

// scale sets node i's replicas to 0 with a stop grace period of grace
// (its task gets SIGTERM, then SIGKILL after grace) and deploys.
func (w *swarm) scaleDown(i int, grace time.Duration) error {
	w.mu.Lock()
	svc := w.services[i]
	w.mu.Unlock()
	svc.Deploy.Replicas, svc.StopGracePeriod = 0, grace.String()
	return w.deploy(i, svc)
}

// taskState is the part of `docker inspect TASK` the provider reads.
type taskState struct {
	NodeID string
	Status struct {
		State string
		Err   string
	}
	DesiredState        string
	NetworksAttachments []struct {
		Network   struct{ Spec struct{ Name string } }
		Addresses []string
	}
}

// runningTask waits for node i's service to have a task that runs, and
// returns its id, its host's address and its address on the overlay.
func (w *swarm) runningTask(i int) (task, host, ip string, err error) {
	deadline := time.Now().Add(90 * time.Second) // wall-clock: the swarm scheduling a task
	for ; time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		ids, err := dockerCmd("service", "ps", "--quiet", "--filter", "desired-state=running", w.service(i))
		if err != nil || ids == "" {
			continue
		}
		task = strings.Fields(ids)[0]
		var ts []taskState
		out, err := dockerCmd("inspect", "--type", "task", task)
		if err != nil || json.Unmarshal([]byte(out), &ts) != nil || len(ts) != 1 {
			continue
		}
		t := ts[0]
		switch t.Status.State {
		case "running":
		case "failed", "rejected", "shutdown", "complete":
			return "", "", "", fmt.Errorf("testnet: node %d's task %s: %s %s", i, task, t.Status.State, t.Status.Err)
		default:
			continue
		}
		for _, a := range t.NetworksAttachments {
			if a.Network.Spec.Name == w.stack+"_"+stackNet && len(a.Addresses) > 0 {
				if p, err := netip.ParsePrefix(a.Addresses[0]); err == nil {
					ip = p.Addr().String()
				}
			}
		}
		if ip == "" {
			return "", "", "", fmt.Errorf("testnet: node %d's task %s has no address on %s_%s", i, task, w.stack, stackNet)
		}
		host, err = dockerCmd("node", "inspect", "--format", "{{.Status.Addr}}", t.NodeID)
		if err != nil {
			return "", "", "", fmt.Errorf("testnet: node %d's host: %w", i, err)
		}
		return task, host, ip, nil
	}
	return "", "", "", fmt.Errorf("testnet: node %d's service %s has no running task after 90 s", i, w.service(i))
}

// Teardown removes the stack: its services, its network, and the tasks'
// containers on this host.
func (w *swarm) Teardown() error {
	if _, err := dockerCmd("stack", "rm", w.stack); err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	// docker stack rm returns before the tasks and the network are gone; a
	// stack deployed again at once would find the network being removed.
	label := "label=com.docker.stack.namespace=" + w.stack
	deadline := time.Now().Add(60 * time.Second) // wall-clock: the swarm removing tasks
	for time.Now().Before(deadline) {
		left := ""
		for _, args := range [][]string{{"service", "ls"}, {"network", "ls"}, {"ps", "--all"}} {
			out, err := dockerCmd(append(args, "--quiet", "--filter", label)...)
			if err != nil {
				return fmt.Errorf("testnet: %w", err)
			}
			left += out
		}
		if left == "" {
			return nil
		}
		time.Sleep(300 * time.Millisecond)
	}
	return fmt.Errorf("testnet: stack %s still has services, networks or containers 60 s after docker stack rm", w.stack)
}

// swarmNode is one node's task, followed by `docker service logs` (its
// local process) into the node's log.
type swarmNode struct {
	w               *swarm
	i               int
	task            string
	rpcURL, p2pAddr string
	logs            *exec.Cmd
	done            chan struct{} // closed once the task no longer runs
	once            sync.Once
}

var _ Node = (*swarmNode)(nil)

// follow appends the task's output since since to logPath.
func (n *swarmNode) follow(logPath string, since time.Time) error {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("node %d log: %w", n.i, err)
	}
	n.logs = exec.Command("docker", "service", "logs", "--follow", "--raw", "--since", since.Format(time.RFC3339Nano), n.task)
	n.logs.Stdout, n.logs.Stderr = logf, logf
	if err := n.logs.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("node %d logs: %w", n.i, err)
	}
	go func() { n.logs.Wait(); logf.Close() }()
	return nil
}

// watch closes done once the task has left the running state.
func (n *swarmNode) watch() {
	for {
		state, err := dockerCmd("inspect", "--type", "task", "--format", "{{.Status.State}}", n.task)
		if err != nil || state != "running" {
			n.gone()
			return
		}
		select {
		case <-n.done:
			return
		case <-time.After(time.Second): // wall-clock: the swarm's task state
		}
	}
}

func (n *swarmNode) gone() {
	n.once.Do(func() {
		n.logs.Process.Kill()
		close(n.done)
	})
}

// waitRPC waits for a node started on an orchestrator to answer at url,
// or for done (its task or pod gone).
func waitRPC(url string, done <-chan struct{}) error {
	c := rpc.NewClient(url)
	deadline := time.Now().Add(60 * time.Second) // wall-clock: a node starting
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := c.Call(ctx, nil, "eth_blockNumber")
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return errors.New("it stopped at start")
		case <-time.After(300 * time.Millisecond): // wall-clock: a node starting
		}
	}
	return fmt.Errorf("its RPC at %s did not answer within 60 s", url)
}

func (n *swarmNode) RPCURL() string  { return n.rpcURL }
func (n *swarmNode) P2PAddr() string { return n.p2pAddr }

// PID is the local docker CLI's that follows the task's output.
func (n *swarmNode) PID() int { return n.logs.Process.Pid }

func (n *swarmNode) Alive() bool {
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// Kill scales the node's service to 0 with no grace: its task is sent
// SIGTERM and SIGKILL at once.
func (n *swarmNode) Kill() { n.stop(0) }

// Stop scales the node's service to 0: SIGTERM, SIGKILL after timeout.
func (n *swarmNode) Stop(timeout time.Duration) { n.stop(timeout) }

func (n *swarmNode) stop(grace time.Duration) {
	if !n.Alive() {
		return
	}
	if err := n.w.scaleDown(n.i, grace); err != nil {
		n.gone() // the stack is gone or unreachable; Teardown removes what is left
		return
	}
	select {
	case <-n.done:
	case <-time.After(grace + 30*time.Second): // wall-clock: the swarm stopping a task
		n.gone()
	}
}
