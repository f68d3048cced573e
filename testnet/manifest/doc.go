// Package manifest writes what runs a chaind testnet on an orchestrator
// instead of as processes of the testnet's supervisor: Kubernetes manifests
// (the genesis in a ConfigMap, a headless Service, a StatefulSet whose pods
// carry Prometheus scrape annotations) for kubectl apply, and a Compose
// file (one service per node, on a network of its own, the genesis as a
// config) for docker-compose up or docker stack deploy. The container image
// must have chaind as its entrypoint; the nodes find each other by their
// names on the orchestrator's DNS. Every node mines (proof of work only).
//
// manifest imports chain (to read the genesis); it writes files and starts
// nothing.
package manifest
