#!/bin/sh
# The ex-ante reorg experiment of docs/consensus.md ("Fork choice under an
# ex-ante reorg"): 64 equal validators on 8 nodes; node 0's 8 validators (1/8
# of the stake) keep each of their blocks private for one slot and release it
# as the next slot begins (--byzantine 0=ex-ante). Each seed is run under both
# fork-choice rules. Per run: the simulator's JSON summary (RULE-seedS.json)
# and the orphaned blocks counted from its records by producer
# (RULE-seedS.orphans.json; the records themselves are not kept). summary.txt:
# per rule, the mean over the seeds with a 95% t-interval.
# Usage (from the repository root): sh docs/simulation/forkchoice-exante/run.sh
set -e
dir=docs/simulation/forkchoice-exante
tmp=$(mktemp -d)
go build -o "$tmp/chaind" ./cmd/chaind
for seed in 1 2 3 4 5 6 7 8; do
	for rule in longest ghost; do
		"$tmp/chaind" sim network --consensus pos --nodes 8 --validators 64 --epoch-length 8 \
			--block-time 1s --latency lognormal:100ms,0.5 --duration 240s \
			--byzantine 0=ex-ante --forkchoice "$rule" --seed "$seed" --out "$tmp/$rule-$seed" --json 2>/dev/null |
			tail -n 1 >"$dir/$rule-seed$seed.json"
		python3 - "$tmp/$rule-$seed/records.json" >"$dir/$rule-seed$seed.orphans.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
blocks, node = r["blocks"], r["producers"]
canon, h = set(), r["finalHeads"]["0"]
while h in blocks:
    canon.add(h)
    h = blocks[h]["parent"]
out = {"canonical": len(canon), "honest_orphaned": 0, "attacker_orphaned": 0, "attacker_canonical": 0}
for b in blocks.values():
    if b["height"] == 0:
        continue
    attacker = node.get(b["producer"]) == 0
    if b["hash"] in canon:
        out["attacker_canonical"] += attacker
    else:
        out["attacker_orphaned" if attacker else "honest_orphaned"] += 1
print(json.dumps(out))
PY
	done
done
rm -rf "$tmp"
python3 - "$dir" >"$dir/summary.txt" <<'PY'
import glob, json, statistics, sys
T975 = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 7: 2.447, 8: 2.365, 9: 2.306, 10: 2.262}
def ci(xs):
    m = statistics.mean(xs)
    h = T975[len(xs)] * statistics.stdev(xs) / len(xs) ** 0.5 if len(xs) > 1 else 0
    return f"{m:.2f} [{m - h:.2f}, {m + h:.2f}]"
d = sys.argv[1]
for rule in ("longest", "ghost"):
    files = sorted(glob.glob(f"{d}/{rule}-seed*.json"))
    runs = [json.load(open(f)) for f in files if not f.endswith(".orphans.json")]
    orph = [json.load(open(f)) for f in files if f.endswith(".orphans.json")]
    print(f"{rule}: {len(runs)} seeds, 240 slots each (mean [95% t-interval])")
    print(f"  honest blocks orphaned       {ci([o['honest_orphaned'] for o in orph])}")
    print(f"  attacker blocks orphaned     {ci([o['attacker_orphaned'] for o in orph])}")
    print(f"  attacker blocks canonical    {ci([o['attacker_canonical'] for o in orph])}")
    print(f"  canonical blocks             {ci([o['canonical'] for o in orph])}")
    print(f"  reorgs (all nodes)           {ci([r['reorgs'] for r in runs])}")
    print(f"  deepest reorg                {ci([r['max_reorg_depth'] for r in runs])}  max {max(r['max_reorg_depth'] for r in runs)}")
    print(f"  time to finality p50 (s)     {ci([r['time_to_finality_ms']['p50'] / 1000 for r in runs])}")
    print(f"  time to finality p90 (s)     {ci([r['time_to_finality_ms']['p90'] / 1000 for r in runs])}")
    print(f"  finalized height             {ci([r['finalized_height'] for r in runs])}")
PY
cat "$dir/summary.txt"
