package manifest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// powGenesis is a small proof-of-work genesis: 1,000,000 hashes per block
// every 2 s, so 4 nodes mine 125,000 nonces per second each.
var powGenesis = []byte(`{"chain_id": 1337, "consensus": "pow", "timestamp": 1700000000000, "block_time": "2s", "alloc": {}, "pow": {"difficulty": "1000000"}}`)

func testConfig(nodes int) Config {
	return Config{Nodes: nodes, Image: "chaind:test", Genesis: powGenesis}
}

// decodeManifests decodes the three documents strictly with k8s.io/api's
// types: a field those types do not have is an error.
func decodeManifests(t *testing.T, data []byte) (*corev1.ConfigMap, *corev1.Service, *appsv1.StatefulSet, error) {
	t.Helper()
	docs := bytes.Split(data, []byte("\n---\n"))
	if len(docs) != 3 {
		t.Fatalf("%d documents, want 3", len(docs))
	}
	cm, svc, sts := new(corev1.ConfigMap), new(corev1.Service), new(appsv1.StatefulSet)
	for i, obj := range []any{cm, svc, sts} {
		if err := yaml.UnmarshalStrict(docs[i], obj); err != nil {
			return nil, nil, nil, fmt.Errorf("document %d: %w", i, err)
		}
	}
	return cm, svc, sts, nil
}

// TestKubernetesManifestsDecodeStrictly: the manifests decode with the
// Kubernetes API's own types, with no field those types lack, and describe
// a StatefulSet of N pods behind a headless Service, reading the genesis
// from the ConfigMap, dialling each other by their stable names and
// annotated for Prometheus.
func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	data, err := Kubernetes(testConfig(4))
	if err != nil {
		t.Fatal(err)
	}
	cm, svc, sts, err := decodeManifests(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if cm.Kind != "ConfigMap" || cm.APIVersion != "v1" || cm.Data[genesisFile] != string(powGenesis) {
		t.Fatalf("config map %s/%s holds %q", cm.APIVersion, cm.Kind, cm.Data)
	}
	if svc.Kind != "Service" || svc.Spec.ClusterIP != corev1.ClusterIPNone || !svc.Spec.PublishNotReadyAddresses {
		t.Fatalf("service %s with cluster IP %q is not headless", svc.Kind, svc.Spec.ClusterIP)
	}
	if sts.Kind != "StatefulSet" || sts.APIVersion != "apps/v1" || sts.Spec.Replicas == nil || *sts.Spec.Replicas != 4 {
		t.Fatalf("stateful set %s/%s of %v replicas", sts.APIVersion, sts.Kind, sts.Spec.Replicas)
	}
	if sts.Spec.ServiceName != svc.Name {
		t.Fatalf("stateful set's service %q, the service is %q", sts.Spec.ServiceName, svc.Name)
	}
	pod := sts.Spec.Template
	for k, v := range svc.Spec.Selector {
		if pod.Labels[k] != v || sts.Spec.Selector.MatchLabels[k] != v {
			t.Fatalf("the service selects %s=%s, the pods are labelled %v", k, v, pod.Labels)
		}
	}
	if a := pod.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != "8545" || a["prometheus.io/path"] != "/metrics" {
		t.Fatalf("scrape annotations %v", a)
	}
	if vs := pod.Spec.Volumes; len(vs) != 1 || vs[0].ConfigMap == nil || vs[0].ConfigMap.Name != cm.Name {
		t.Fatalf("volumes %+v do not mount the config map %s", vs, cm.Name)
	}
	if len(sts.Spec.VolumeClaimTemplates) != 1 || sts.Spec.VolumeClaimTemplates[0].Name != "data" {
		t.Fatalf("volume claims %+v", sts.Spec.VolumeClaimTemplates)
	}
	c := pod.Spec.Containers[0]
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	if mounts["genesis"] != genesisDir || mounts["data"] != dataDir {
		t.Fatalf("mounts %v", mounts)
	}
	want := "chaind-0.chaind:30303,chaind-1.chaind:30303,chaind-2.chaind:30303,chaind-3.chaind:30303"
	if i := slices.Index(c.Args, "--peers"); i < 0 || c.Args[i+1] != want {
		t.Fatalf("args %q, want --peers %s", c.Args, want)
	}
	if i := slices.Index(c.Args, "--miner.hashrate"); i < 0 || c.Args[i+1] != "125000" {
		t.Fatalf("args %q, want --miner.hashrate 125000 (1e6 hashes per 2 s block over 4 nodes)", c.Args)
	}
	if i := slices.Index(c.Args, "--genesis"); i < 0 || c.Args[i+1] != genesisDir+"/"+genesisFile {
		t.Fatalf("args %q do not read the mounted genesis", c.Args)
	}
	// The testnet's kubernetes backend sets the pods' link faults.
	if i := slices.Index(c.Args, "--rpc.api"); i < 0 || !slices.Contains(strings.Split(c.Args[i+1], ","), "link") || !slices.Contains(c.Args, "--p2p.linkfaults") {
		t.Fatalf("args %q: want --p2p.linkfaults and the link namespace served", c.Args)
	}
}

// TestStrictDecodingCatchesAMisspelling: the check above has teeth: the
// same manifests with one field misspelled fail to decode.
func TestStrictDecodingCatchesAMisspelling(t *testing.T) {
	data, err := Kubernetes(testConfig(2))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(data, []byte("publishNotReadyAddresses"), []byte("publishNotReadyAddress"), 1)
	if _, _, _, err := decodeManifests(t, bad); err == nil || !strings.Contains(err.Error(), "publishNotReadyAddress") {
		t.Fatalf("a misspelt field decoded: %v", err)
	}
}

// TestComposeFile: one service per node on the file's own network, each
// dialling every other node by service name, mining to its own coinbase,
// with its own data volume, the genesis file beside it mounted read-only
// (not a config, which docker-compose ignores outside a swarm) and its RPC
// on 127.0.0.1:8545+i.
func TestComposeFile(t *testing.T) {
	data, err := Compose(testConfig(3))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		t.Fatal(err)
	}
	if f.Version != "3.8" || len(f.Services) != 3 || len(f.Volumes) != 3 {
		t.Fatalf("compose file %+v", f)
	}
	if _, ok := f.Networks[composeNetwork]; !ok || len(f.Networks) != 1 {
		t.Fatalf("networks %v", f.Networks)
	}
	for i := range 3 {
		name := fmt.Sprintf("chaind%d", i)
		s, ok := f.Services[name]
		if !ok {
			t.Fatalf("no service %s in %v", name, f.Services)
		}
		var peers []string
		for j := range 3 {
			if j != i {
				peers = append(peers, fmt.Sprintf("chaind%d:30303", j))
			}
		}
		arg := func(flag string) string {
			if k := slices.Index(s.Command, flag); k >= 0 {
				return s.Command[k+1]
			}
			return ""
		}
		if arg("--peers") != strings.Join(peers, ",") || arg("--miner.coinbase") != Coinbase(i) {
			t.Fatalf("%s: command %q", name, s.Command)
		}
		if _, ok := f.Volumes[name]; !ok || !slices.Equal(s.Volumes, []string{name + ":/data", "./genesis.json:/etc/chaind/genesis.json:ro"}) {
			t.Fatalf("%s: volumes %v", name, s.Volumes)
		}
		if !slices.Equal(s.Networks, []string{composeNetwork}) {
			t.Fatalf("%s: networks %v", name, s.Networks)
		}
		if want := fmt.Sprintf("127.0.0.1:%d:8545", 8545+i); !slices.Equal(s.Ports, []string{want}) {
			t.Fatalf("%s: ports %v, want %s", name, s.Ports, want)
		}
	}
}

// TestRefusesWhatCannotRun: no nodes, no image, a name that is not a DNS
// label, a bad genesis or a proof-of-stake one are refused.
func TestRefusesWhatCannotRun(t *testing.T) {
	pos := []byte(`{"chain_id": 1337, "consensus": "pos", "timestamp": 1700000000000, "alloc": {}, "pos": {"slot_time": "1s"}}`)
	for _, c := range []Config{
		{Nodes: 0, Image: "i", Genesis: powGenesis},
		{Nodes: 2, Genesis: powGenesis},
		{Nodes: 2, Image: "i", Genesis: powGenesis, Name: "Chain_D"},
		{Nodes: 2, Image: "i", Genesis: []byte(`{"chain_id": 1, "bogus": 1}`)},
		{Nodes: 2, Image: "i", Genesis: pos},
	} {
		if _, err := Kubernetes(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// TestWriteWritesTheThreeFiles: the genesis sits beside the Compose file
// that reads it.
func TestWriteWritesTheThreeFiles(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, testConfig(2)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{genesisFile, KubernetesFile, ComposeFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, genesisFile)); !bytes.Equal(got, powGenesis) {
		t.Fatalf("genesis %q", got)
	}
}
