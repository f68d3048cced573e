package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/chaind/chaind/pos"
)

// parseByzantine reads "N=B1+B2,M=B3": node index, then its behaviours.
func parseByzantine(s string, nodes int) (map[int]pos.Behaviour, error) {
	if s == "" {
		return nil, nil
	}
	out := make(map[int]pos.Behaviour)
	for _, part := range strings.Split(s, ",") {
		idx, list, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(strings.TrimSpace(idx))
		if !ok || err != nil || n < 0 || n >= nodes {
			return nil, fmt.Errorf("--byzantine %q: want NODE=BEHAVIOUR+BEHAVIOUR,... with NODE in 0..%d", part, nodes-1)
		}
		b, err := pos.ParseBehaviour(list)
		if err != nil {
			return nil, fmt.Errorf("--byzantine: node %d: %w", n, err)
		}
		out[n] = b
	}
	return out, nil
}

// behaviourNames is byz as the testnet passes it to its nodes' flags.
func behaviourNames(byz map[int]pos.Behaviour) map[int]string {
	out := make(map[int]string, len(byz))
	for n, b := range byz {
		out[n] = b.String()
	}
	return out
}
