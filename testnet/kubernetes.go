package testnet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chaind/chaind/testnet/manifest"
)

// kubernetes runs the testnet as the StatefulSet of manifest.Kubernetes,
// applied with kubectl to the cluster of the current context (or
// Options.KubeContext). The pods run the manifests' command line, not the
// supervisor's (which names paths on this machine): every pod mines at an
// equal share of the genesis's hash rate to one coinbase, with link faults
// on. The supervisor reaches pod i's RPC through `kubectl port-forward`
// (its local process), and sets its links over it by the other pods' IPs;
// pod i's peers dial it at NAME-i.NAME. Killing a node deletes its pod at
// once; the StatefulSet makes it again (with a new IP, which the links
// follow), and a restart attaches to that pod. Without kubectl or a cluster
// Setup refuses, after writing the manifests for kubectl apply by hand.
//
// This provider was not run against a cluster where it was written; its
// refusal is tested.
type kubernetes struct {
	dir, image, name, context string
	nodes                     int
	file                      string // the manifests, DIR/kubernetes.yaml

	mu  sync.Mutex
	ips []string // pod i's IP when it last started
}

var _ Provider = (*kubernetes)(nil)

func newKubernetes(opts Options) *kubernetes {
	name, abs := orchestratedName(opts.Dir)
	return &kubernetes{dir: abs, image: opts.Image, name: name, context: opts.KubeContext, nodes: opts.Nodes,
		file: filepath.Join(abs, manifest.KubernetesFile), ips: make([]string, opts.Nodes)}
}

// kubectl runs kubectl with the provider's context and returns its
// trimmed output.
func (k *kubernetes) kubectl(args ...string) (string, error) {
	if k.context != "" {
		args = append([]string{"--context", k.context}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // wall-clock: the cluster's API server
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, lastLine(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// Setup writes the manifests, checks that kubectl reaches a cluster where
// it may create a StatefulSet, and applies them: every pod starts.
func (k *kubernetes) Setup() error {
	g, err := os.ReadFile(filepath.Join(k.dir, "genesis.json"))
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	data, err := manifest.Kubernetes(manifest.Config{Nodes: k.nodes, Image: k.image, Genesis: g, Name: k.name})
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	if err := os.WriteFile(k.file, data, 0o644); err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	if err := k.cluster(); err != nil {
		return fmt.Errorf("testnet: no Kubernetes cluster to run the nodes (%w); the manifests are written: apply them by hand with kubectl apply -f %s, with the image %s loaded on the cluster's nodes", err, k.file, k.image)
	}
	if _, err := k.kubectl("apply", "-f", k.file); err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	return nil
}

// cluster checks that kubectl has a context and may create a StatefulSet
// in its cluster.
func (k *kubernetes) cluster() error {
	if k.context == "" {
		if _, err := k.kubectl("config", "current-context"); err != nil {
			return err
		}
	}
	can, err := k.kubectl("auth", "can-i", "create", "statefulsets.apps")
	if err != nil {
		return err
	}
	if can != "yes" {
		return fmt.Errorf("kubectl may not create a StatefulSet: %s", can)
	}
	return nil
}

// lastLine is the last line of a command's error output that says
// something.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func (k *kubernetes) pod(i int) string { return fmt.Sprintf("%s-%d", k.name, i) }

// PeerAddr is pod i's stable name behind the headless Service.
func (k *kubernetes) PeerAddr(i int) string {
	return fmt.Sprintf("%s.%s:%d", k.pod(i), k.name, manifest.P2PPort)
}

// PeerIP is pod i's IP when it last started.
func (k *kubernetes) PeerIP(i int) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ips[i]
}

// StartNode waits for pod i to run (the StatefulSet starts it, and makes
// it again after a kill) and forwards a local port to its RPC. The
// supervisor's command line is not the pod's: see kubernetes.
func (k *kubernetes) StartNode(i int, logPath string, _ NodeArgs) (Node, error) {
	if _, err := k.kubectl("wait", "--for=condition=Ready", "--timeout=120s", "pod/"+k.pod(i)); err != nil {
		return nil, fmt.Errorf("testnet: node %d: %w", i, err)
	}
	ip, err := k.kubectl("get", "pod", k.pod(i), "--output", "jsonpath={.status.podIP}")
	if err != nil {
		return nil, fmt.Errorf("testnet: node %d: %w", i, err)
	}
	n, err := k.portForward(i, logPath)
	if err != nil {
		return nil, err
	}
	n.p2pAddr = net.JoinHostPort(ip, fmt.Sprint(manifest.P2PPort))
	if err := waitRPC(n.rpcURL, n.done); err != nil {
		n.Stop(0)
		return nil, fmt.Errorf("node %d: %w; see %s", i, err, logPath)
	}
	k.mu.Lock()
	k.ips[i] = ip
	k.mu.Unlock()
	return n, nil
}

// portForward runs kubectl port-forward to pod i's RPC, its output
// appended to logPath, and returns once it forwards.
func (k *kubernetes) portForward(i int, logPath string) (*podNode, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("node %d log: %w", i, err)
	}
	args := []string{"port-forward", "pod/" + k.pod(i), fmt.Sprintf(":%d", manifest.RPCPort)}
	if k.context != "" {
		args = append([]string{"--context", k.context}, args...)
	}
	n := &podNode{k: k, i: i, cmd: exec.Command("kubectl", args...), done: make(chan struct{})}
	n.cmd.Stderr = logf
	out, err := n.cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := n.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("node %d: kubectl port-forward: %w", i, err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			// Forwarding from 127.0.0.1:PORT -> 8545
			if f := strings.Fields(sc.Text()); len(f) >= 3 && f[0] == "Forwarding" && strings.HasPrefix(f[2], "127.0.0.1:") {
				select {
				case ready <- f[2]:
				default:
				}
			}
		}
	}()
	go func() { n.cmd.Wait(); logf.Close(); close(n.done) }()
	select {
	case addr := <-ready:
		n.rpcURL = "http://" + addr
		return n, nil
	case <-n.done:
		return nil, fmt.Errorf("node %d: kubectl port-forward exited; see %s", i, logPath)
	case <-time.After(60 * time.Second): // wall-clock: the cluster's API server
		n.cmd.Process.Kill()
		return nil, fmt.Errorf("node %d: kubectl port-forward did not forward within 60 s; see %s", i, logPath)
	}
}

// Teardown deletes what the manifests made and the pods' volume claims,
// which a StatefulSet leaves.
func (k *kubernetes) Teardown() error {
	if _, err := os.Stat(k.file); err != nil {
		return nil // Setup wrote nothing
	}
	if k.cluster() != nil {
		return nil // no cluster: nothing was applied
	}
	args := []string{"delete", "--ignore-not-found", "--wait", "-f", k.file}
	_, err := k.kubectl(args...)
	claims := []string{"delete", "--ignore-not-found", "pvc"}
	for i := range k.nodes {
		claims = append(claims, "data-"+k.pod(i))
	}
	_, err2 := k.kubectl(claims...)
	return errors.Join(err, err2)
}

// podNode is one pod, reached through a kubectl port-forward whose end is
// the pod's (it exits when the pod goes).
type podNode struct {
	k               *kubernetes
	i               int
	cmd             *exec.Cmd
	rpcURL, p2pAddr string
	done            chan struct{}
}

var _ Node = (*podNode)(nil)

func (n *podNode) RPCURL() string  { return n.rpcURL }
func (n *podNode) P2PAddr() string { return n.p2pAddr }
func (n *podNode) PID() int        { return n.cmd.Process.Pid }

func (n *podNode) Alive() bool {
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// Kill deletes the pod with no grace period.
func (n *podNode) Kill() {
	n.k.kubectl("delete", "pod", n.k.pod(n.i), "--grace-period=0", "--force", "--wait=false")
	n.cmd.Process.Kill()
	<-n.done
}

// Stop ends the port-forward; the pod stops when Teardown deletes the
// StatefulSet, with its grace period.
func (n *podNode) Stop(time.Duration) {
	n.cmd.Process.Kill()
	<-n.done
}
