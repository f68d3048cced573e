package netsim

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// randomRegular returns the adjacency lists of a random k-regular graph on n
// nodes, drawn by pairing stubs one edge at a time (each node has k stubs;
// two stubs of different, not yet linked nodes are joined; a draw that gets
// stuck starts over), as in Steger and Wormald's algorithm, whose graphs are
// close to uniform for fixed k. With k >= n-1 every node is linked to every
// other. Lists are sorted.
func randomRegular(n, k int, rng *rand.Rand) ([][]int, error) {
	if n < 2 {
		return make([][]int, n), nil
	}
	if k >= n-1 {
		adj := make([][]int, n)
		for i := range adj {
			for j := range n {
				if j != i {
					adj[i] = append(adj[i], j)
				}
			}
		}
		return adj, nil
	}
	if k < 1 || n*k%2 != 0 {
		return nil, fmt.Errorf("no %d-regular graph on %d nodes: want k >= 1 and n*k even", k, n)
	}
	for range 100 {
		if adj, ok := pairStubs(n, k, rng); ok {
			for _, l := range adj {
				slices.Sort(l)
			}
			return adj, nil
		}
	}
	return nil, fmt.Errorf("no simple %d-regular graph on %d nodes found in 100 attempts", k, n)
}

func pairStubs(n, k int, rng *rand.Rand) ([][]int, bool) {
	stubs := make([]int, 0, n*k)
	for i := range n {
		for range k {
			stubs = append(stubs, i)
		}
	}
	adj := make([][]int, n)
	for len(stubs) > 0 {
		joined := false
		for range 100 {
			i, j := rng.IntN(len(stubs)), rng.IntN(len(stubs))
			a, b := stubs[i], stubs[j]
			if a == b || slices.Contains(adj[a], b) {
				continue
			}
			adj[a] = append(adj[a], b)
			adj[b] = append(adj[b], a)
			if i < j {
				i, j = j, i
			}
			stubs[i] = stubs[len(stubs)-1] // remove the higher index first
			stubs = stubs[:len(stubs)-1]
			stubs[j] = stubs[len(stubs)-1]
			stubs = stubs[:len(stubs)-1]
			joined = true
			break
		}
		if !joined {
			return nil, false
		}
	}
	return adj, true
}
