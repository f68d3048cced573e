package testnet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/testnet/manifest"
)

// DefaultImage is the image the docker backend runs, as `chaind testnet
// image` tags it.
const DefaultImage = "chaind:latest"

// docker runs each node in a container of its own on a bridge network the
// testnet creates and removes. The testnet's directory is mounted at the
// same path in every container, so the nodes' data, keys and logs stay
// where the process backend keeps them, and no volume is made. The
// supervisor reaches a node at its container's address; the nodes reach
// each other through the supervisor's proxies, which listen on the
// network's gateway. A Compose file of the same testnet is written to the
// directory for running it by hand.
type docker struct {
	dir, image string
	nodes      int
	pos        bool
	name       string // of the network, and the containers' prefix
	label      string // on every container and the network: chaind.testnet=NAME
	gateway    string // the network's gateway, set by Setup
	runner     spawner
}

var _ Provider = (*docker)(nil)

func newDocker(opts Options) *docker {
	abs, err := filepath.Abs(opts.Dir)
	if err != nil {
		abs = opts.Dir
	}
	sum := sha256.Sum256([]byte(abs))
	name := "chaind-" + hex.EncodeToString(sum[:5])
	return &docker{dir: abs, image: opts.Image, nodes: opts.Nodes, pos: opts.Consensus == chain.ConsensusPoS,
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
	if _, err := dockerCmd("network", "create", "--driver", "bridge", "--label", d.label, d.name); err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	gw, err := dockerCmd("network", "inspect", "--format", "{{range .IPAM.Config}}{{.Gateway}} {{end}}", d.name)
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	if f := strings.Fields(gw); len(f) > 0 && net.ParseIP(f[0]) != nil {
		d.gateway = f[0]
	} else {
		return fmt.Errorf("testnet: network %s has no gateway address (%q)", d.name, gw)
	}
	return d.writeCompose()
}

// writeCompose writes DIR/docker-compose.yml, the same testnet for
// docker-compose or docker stack deploy (proof of work only: a PoS node
// needs its own validator key, which the Compose file cannot hold).
func (d *docker) writeCompose() error {
	if d.pos {
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

func (d *docker) PeerHost() string { return d.gateway }

func (d *docker) container(i int) string { return fmt.Sprintf("%s-node%d", d.name, i) }

// StartNode runs the node's container attached to a docker CLI process,
// whose output is the node's and whose SIGTERM the CLI passes on.
func (d *docker) StartNode(i int, logPath string, args NodeArgs) (Node, error) {
	name := d.container(i)
	dockerCmd("rm", "--force", name) // a container a killed CLI left behind; none is the usual answer
	run := []string{"run", "--rm", "--name", name, "--label", d.label, "--network", d.name,
		"--volume", d.dir + ":" + d.dir, d.image, "node"}
	run = append(run, args...)
	run = append(run, "--rpc.addr", fmt.Sprintf("0.0.0.0:%d", manifest.RPCPort), "--p2p.addr", fmt.Sprintf("0.0.0.0:%d", manifest.P2PPort))
	p, err := d.runner.startNode("docker", i, logPath, run)
	if err != nil {
		return nil, err
	}
	p.onKill = func() { dockerCmd("kill", name) }
	ip, err := dockerCmd("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name)
	if err != nil || net.ParseIP(ip) == nil {
		p.Kill()
		return nil, fmt.Errorf("node %d: the container's address (%q): %v", i, ip, err)
	}
	p.rpcURL = "http://" + net.JoinHostPort(ip, strconv.Itoa(manifest.RPCPort))
	p.p2pAddr = net.JoinHostPort(ip, strconv.Itoa(manifest.P2PPort))
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
