#!/bin/sh
# The ex-ante reorg experiment of docs/consensus.md ("Fork choice under an
# ex-ante reorg"): node 0's validator (30% of the stake) keeps each of
# its blocks private for one slot; each run is repeated under both fork-choice
# rules on the same seeds. One JSON summary per run in this directory.
# Usage (from the repository root): sh docs/simulation/forkchoice-exante/run.sh
set -e
dir=docs/simulation/forkchoice-exante
go build -o /tmp/chaind-exante ./cmd/chaind
for seed in 1 2 3 4 5; do
	for rule in longest ghost; do
		/tmp/chaind-exante sim network --consensus pos --nodes 8 --epoch-length 8 --block-time 1s \
			--latency const:100ms --duration 240s --stakes 30,10,10,10,10,10,10,10 \
			--byzantine 0=ex-ante --forkchoice "$rule" --seed "$seed" --json |
			tail -n 1 >"$dir/$rule-seed$seed.json"
	done
done
