package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/chaind/chaind/testnet"
	"github.com/chaind/chaind/testnet/manifest"
)

// testnetImage builds the image that testnet up --backend docker runs.
func testnetImage(args []string) error {
	fs := newFlagSet("testnet image", "testnet image [--binary FILE] [--tag TAG]")
	binary := fs.String("binary", "", "a chaind built with CGO_ENABLED=0 (default: this program, if it is static)")
	tag := fs.String("tag", testnet.DefaultImage, "the image's name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("--binary: %w", err)
		}
		*binary = exe
	}
	if err := testnet.BuildImage(*binary, *tag, os.Stderr); err != nil {
		return err
	}
	fmt.Printf("Built %s from %s\n  chaind testnet up --backend docker --image %[1]s\n", *tag, *binary)
	return nil
}

// testnetManifests writes the Kubernetes manifests and the Compose file of
// a testnet whose genesis a testnet directory (or --genesis) holds.
func testnetManifests(args []string) error {
	fs := newFlagSet("testnet manifests", "testnet manifests [--nodes N] [--image IMAGE] [--name NAME] [--genesis FILE] [--dir DIR]")
	nodes := fs.Int("nodes", 4, "number of nodes")
	image := fs.String("image", "chaind:latest", "container image whose entrypoint is chaind")
	name := fs.String("name", "chaind", "name of the StatefulSet, the Service and the Compose services (a DNS label)")
	genesis := fs.String("genesis", "", "genesis file of a pow chain (default: the one in --dir, which 'testnet up' wrote)")
	dir := dirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *genesis == "" {
		*genesis = filepath.Join(*dir, "genesis.json")
	}
	data, err := os.ReadFile(*genesis)
	if err != nil {
		return fmt.Errorf("--genesis: %w", err)
	}
	if err := manifest.Write(*dir, manifest.Config{Nodes: *nodes, Image: *image, Genesis: data, Name: *name}); err != nil {
		return err
	}
	fmt.Printf("Wrote %s, %s and genesis.json in %s:\n  kubectl apply -f %[1]s\n  docker-compose -f %[2]s up\n",
		filepath.Join(*dir, manifest.KubernetesFile), filepath.Join(*dir, manifest.ComposeFile), *dir)
	return nil
}
