#!/usr/bin/env bash
# Can a checker tell a faithful summary from the same summary with one sentence "recombined"
# (its subject given what another source sentence says of someone else; every word from the
# source)? Builds the balanced set from the bench-dev faithful summaries (each original beside
# its variant; WiCE left out) and scores each model as shipped (`--protocol as-is`).
#   scripts/recombined_eval.sh [MODEL ...]        (default: fast)
set -euo pipefail
B=${B:-../shared/data/bench-dev}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
python - "$B" "$OUT/faithful.jsonl" <<'PY'
import glob, json, os, sys
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.jsonl"))):
        if "wice" in path:
            continue
        for line in open(path, encoding="utf-8"):
            d = json.loads(line)
            if d["label"] == 1:
                out.write(json.dumps({"id": d["id"], "doc": d["doc"], "summary": d["summary"]}) + "\n")
PY
verisum perturb --jsonl "$OUT/faithful.jsonl" --types recombined --with-original --seed 0 -o "$OUT/all.jsonl"
python - "$OUT/all.jsonl" "$OUT/recombined.jsonl" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
changed = {r["id"].split(":")[0] for r in rows if r.get("label") == 0}
keep = [r for r in rows if r.get("label") == 0 or r["id"] in changed]
open(sys.argv[2], "w", encoding="utf-8").write("".join(json.dumps(r) + "\n" for r in keep))
print(f"{len(keep)} records: {len(changed)} faithful summaries and their recombined variants", file=sys.stderr)
PY
for m in "${@:-fast}"; do
    echo "== $m"
    verisum eval "$OUT/recombined.jsonl" --protocol as-is --model "$m" | tail -3
done
