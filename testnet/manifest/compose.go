package manifest

import (
	"bytes"
	"fmt"

	"sigs.k8s.io/yaml"
)

// composeFile is the part of the Compose file format (version 3.8, which
// docker-compose 1.29 and docker stack deploy both read) that Compose
// writes.
type composeFile struct {
	Version  string                    `json:"version"`
	Services map[string]composeService `json:"services"`
	Networks map[string]struct{}       `json:"networks"`
	Volumes  map[string]struct{}       `json:"volumes"`
}

type composeService struct {
	Image    string   `json:"image"`
	Command  []string `json:"command"`
	Ports    []string `json:"ports"`
	Networks []string `json:"networks"`
	Volumes  []string `json:"volumes"`
}

// composeNetwork is the one network the nodes share; Compose creates it
// (a bridge, or an overlay under docker stack deploy).
const composeNetwork = "chaind"

// Compose returns c's Compose file: one service per node, NAME0 ... on a
// network of their own, each dialling the others by service name, mining to
// Coinbase(i), with its data in a volume of its own and its RPC published on
// 127.0.0.1:8545+i. The genesis is genesis.json beside the file, mounted
// read-only (docker-compose ignores a config outside a swarm; under docker
// stack deploy on several hosts, the file must be at the same path on
// each).
func Compose(c Config) ([]byte, error) {
	t, err := c.check()
	if err != nil {
		return nil, err
	}
	f := composeFile{Version: "3.8", Services: map[string]composeService{}, Networks: map[string]struct{}{composeNetwork: {}},
		Volumes: map[string]struct{}{}}
	for i := range t.Nodes {
		var peers []string
		for j := range t.Nodes {
			if j != i {
				peers = append(peers, fmt.Sprintf("%s%d:%d", t.Name, j, P2PPort))
			}
		}
		name := fmt.Sprintf("%s%d", t.Name, i)
		f.Volumes[name] = struct{}{}
		f.Services[name] = composeService{Image: t.Image, Command: t.args(peers, Coinbase(i)),
			Ports:    []string{fmt.Sprintf("127.0.0.1:%d:%d", RPCPort+i, RPCPort)},
			Networks: []string{composeNetwork},
			Volumes:  []string{name + ":" + dataDir, "./" + genesisFile + ":" + genesisDir + "/" + genesisFile + ":ro"}}
	}
	doc, err := yaml.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("manifest: compose: %w", err)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "# A chaind testnet of %d nodes: docker-compose up, or docker stack deploy -c %s NAME\n", t.Nodes, ComposeFile)
	out.Write(doc)
	return out.Bytes(), nil
}
