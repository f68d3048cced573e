package testnet

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaind/chaind/testnet/manifest"
)

// TestKubernetesWithoutClusterRefuses: with no kubectl, or a kubectl that
// reaches no cluster, --backend kubernetes refuses before any node starts,
// with a message that says the manifests are written and how to apply them;
// they are manifest.Kubernetes's for this testnet (which
// TestKubernetesManifestsDecodeStrictly decodes with k8s.io/api's types).
func TestKubernetesWithoutClusterRefuses(t *testing.T) {
	for _, tc := range []struct{ name, path string }{
		{"no kubectl", t.TempDir()},
		{"no cluster", os.Getenv("PATH")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := exec.LookPath("kubectl"); err != nil && tc.name == "no cluster" {
				t.Skip("no kubectl installed")
			}
			t.Setenv("PATH", tc.path)
			t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "kubeconfig")) // no cluster in it
			dir := t.TempDir()
			s, err := Up(Options{Dir: dir, Backend: BackendK8s, Nodes: 3, Binary: chaindBin, Logger: quiet()})
			if err == nil {
				s.Down()
				t.Fatal("a kubernetes testnet came up with no cluster")
			}
			file := filepath.Join(dir, manifest.KubernetesFile)
			if !strings.Contains(err.Error(), "no Kubernetes cluster") || !strings.Contains(err.Error(), "kubectl apply -f "+file) {
				t.Fatalf("refusal %q, want it to name the missing cluster and kubectl apply -f %s", err, file)
			}
			written, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			g, err := os.ReadFile(filepath.Join(dir, "genesis.json"))
			if err != nil {
				t.Fatal(err)
			}
			name, _ := orchestratedName(dir)
			want, err := manifest.Kubernetes(manifest.Config{Nodes: 3, Image: DefaultImage, Genesis: g, Name: name})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(written, want) {
				t.Fatalf("%s is not the testnet's manifests", file)
			}
		})
	}
}
