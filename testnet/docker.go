package testnet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/testnet/manifest"
)

// DefaultImage is the image the docker backend runs, as `chaind testnet
// image` tags it.
const DefaultImage = "chaind:latest"

// docker runs each node in a container of its own on a bridge network the
// testnet creates and removes. The testnet's directory is mounted at the
// same path in every container, so the nodes' data, keys and logs stay
// where the process backend keeps them, and no volume is made. Each node
// has a fixed address on the network; the supervisor reaches its RPC there,
// and the nodes dial each other there directly, each shaping its own links
// (--p2p.linkfaults) as the supervisor sets them over the link_ RPC. A
// Compose file of the same testnet is written to the directory for running
// it by hand.
type docker struct {
	dir, image string
	nodes      int
	validators bool         // the engine's blocks are made by validators with their own keys
	name       string       // of the network, and the containers' prefix
	label      string       // on every container and the network: chaind.testnet=NAME
	ips        []netip.Addr // node i's address on the network, set by Setup
	runner     spawner
}

var _ Provider = (*docker)(nil)

// orchestratedName is the testnet in dir's name on an orchestrator:
// chaind- and 10 hex digits of dir's absolute path, a DNS label; and that
// path.
func orchestratedName(dir string) (name, abs string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	sum := sha256.Sum256([]byte(abs))
	return "chaind-" + hex.EncodeToString(sum[:5]), abs
}

func newDocker(opts Options) *docker {
	name, abs := orchestratedName(opts.Dir)
	e, err := engines.Lookup(opts.Consensus)
	return &docker{dir: abs, image: opts.Image, nodes: opts.Nodes, validators: err == nil && e.Producers == engines.Validators,
		name: name, label: "chaind.testnet=" + name}
}

// dockerCmd runs the docker CLI and returns its trimmed output.
func dockerCmd(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // wall-clock: the Docker daemon
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", args[0], err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// Setup checks the daemon and the image, removes what a supervisor that
// died may have left, creates the network and writes the Compose file.
func (d *docker) Setup() error {
	if _, err := dockerCmd("version", "--format", "{{.Server.Version}}"); err != nil {
		return fmt.Errorf("testnet: no Docker daemon to run the nodes: %w", err)
	}
	if _, err := dockerCmd("image", "inspect", "--format", "{{.Id}}", d.image); err != nil {
		return fmt.Errorf("testnet: image %s not found; build it with chaind testnet image: %w", d.image, err)
	}
	if err := d.Teardown(); err != nil {
		return err
	}
	subnet, err := d.createNetwork()
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	// The gateway takes the subnet's first address; node i the (i+2)th.
	base := subnet.Masked().Addr()
	if !subnet.Addr().Is4() || subnet.Bits() > 30 || d.nodes+2 >= 1<<(32-subnet.Bits()) {
		return fmt.Errorf("testnet: network %s's subnet %s is too small for %d nodes", d.name, subnet, d.nodes)
	}
	d.ips = make([]netip.Addr, d.nodes)
	ip := base.Next()
	for i := range d.ips {
		ip = ip.Next()
		d.ips[i] = ip
	}
	return d.writeCompose()
}

// writeCompose writes DIR/docker-compose.yml, the same testnet for
// docker-compose or docker stack deploy (for engines whose blocks miners
// make: a validator node needs its own keys, which the Compose file cannot
// hold).
func (d *docker) writeCompose() error {
	if d.validators {
		return nil
	}
	g, err := os.ReadFile(filepath.Join(d.dir, "genesis.json"))
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	compose, err := manifest.Compose(manifest.Config{Nodes: d.nodes, Image: d.image, Genesis: g})
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	return os.WriteFile(filepath.Join(d.dir, manifest.ComposeFile), compose, 0o644)
}

// createNetwork creates the testnet's bridge network on a subnet of its
// own: docker picks a free one, which the network is then made again with,
// so that each node can have its address before it starts (docker assigns
// --ip only on a subnet it was given). The network is internal: the nodes
// reach each other and the supervisor reaches them, nothing else.
func (d *docker) createNetwork() (netip.Prefix, error) {
	if _, err := dockerCmd("network", "create", "--driver", "bridge", "--label", d.label, d.name); err != nil {
		return netip.Prefix{}, err
	}
	out, err := dockerCmd("network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", d.name)
	if err != nil {
		return netip.Prefix{}, err
	}
	f := strings.Fields(out)
	if len(f) == 0 {
		return netip.Prefix{}, fmt.Errorf("network %s has no subnet", d.name)
	}
	subnet, err := netip.ParsePrefix(f[0])
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("network %s: %w", d.name, err)
	}
	if _, err := dockerCmd("network", "rm", d.name); err != nil {
		return netip.Prefix{}, err
	}
	if _, err := dockerCmd("network", "create", "--driver", "bridge", "--internal", "--subnet", subnet.String(), "--label", d.label, d.name); err != nil {
		return netip.Prefix{}, err
	}
	return subnet, nil
}

// PeerAddr is node i's P2P address on the network: the nodes dial each
// other directly and shape their own links.
func (d *docker) PeerAddr(i int) string {
	return netip.AddrPortFrom(d.ips[i], manifest.P2PPort).String()
}

// PeerIP is node i's fixed address on the network.
func (d *docker) PeerIP(i int) string { return d.ips[i].String() }

func (d *docker) container(i int) string { return fmt.Sprintf("%s-node%d", d.name, i) }

// StartNode runs the node's container attached to a docker CLI process,
// whose output is the node's and whose SIGTERM the CLI passes on.
func (d *docker) StartNode(i int, logPath string, args NodeArgs) (Node, error) {
	name := d.container(i)
	dockerCmd("rm", "--force", name) // a container a killed CLI left behind; none is the usual answer
	run := []string{"run", "--rm", "--name", name, "--label", d.label, "--network", d.name, "--ip", d.ips[i].String(),
		"--volume", d.dir + ":" + d.dir, d.image, "node"}
	run = append(run, args...)
	run = append(run, "--rpc.addr", fmt.Sprintf("0.0.0.0:%d", manifest.RPCPort), "--p2p.addr", fmt.Sprintf("0.0.0.0:%d", manifest.P2PPort))
	p, err := d.runner.startNode("docker", i, logPath, run)
	if err != nil {
		return nil, err
	}
	p.onKill = func() { dockerCmd("kill", name) }
	p.rpcURL = "http://" + netip.AddrPortFrom(d.ips[i], manifest.RPCPort).String()
	p.p2pAddr = d.PeerAddr(i)
	return p, nil
}

// Teardown removes every container and the network of this testnet.
func (d *docker) Teardown() error {
	ids, err := dockerCmd("ps", "--all", "--quiet", "--filter", "label="+d.label)
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	var errs []error
	if f := strings.Fields(ids); len(f) > 0 {
		if _, err := dockerCmd(append([]string{"rm", "--force", "--volumes"}, f...)...); err != nil {
			errs = append(errs, err)
		}
	}
	nets, err := dockerCmd("network", "ls", "--quiet", "--filter", "label="+d.label)
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	if f := strings.Fields(nets); len(f) > 0 {
		if _, err := dockerCmd(append([]string{"network", "rm"}, f...)...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
