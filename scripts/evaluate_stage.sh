#!/usr/bin/env bash
# Measure a finished training stage of the accurate model against the shipping rule, in one go:
#   1. export its warm start as the shipped form would be (per-channel int8, the outlier MatMuls
#      fp32), checked on the trainer's 1,000 held-out NLI rows (accuracy, argmax agreement);
#   2. the ten-set leave-one-dataset-out run, the fast model's rows refitted beside it (the same
#      floor and span baseline; both models' rows cached, so a rerun only refits);
#   3. the recombination set (scripts/recombined_eval.sh), both models;
#   4. speed, both models in one bench run, and the stage read with the join alone (one judge call
#      a claim: a copy of its export whose config.json says "premises": "joined", $MODEL-joined);
#   5. the warm start packed for committing (verisum train pack, rank 128, its held-out check):
#      $T/NAME/packed.pt, to copy into warm/ when the stage is the one to continue from.
# Usage: scripts/evaluate_stage.sh NAME   (the run folder $T/NAME holds warm.pt)
#   env: T=~/.cache/verisum/train (runs, rows)  EXPORTS=~/.cache/verisum/export  DATA=../shared/data
#        KEEP_OUTLIERS=6  SKIP_BENCH=1 (steps 1-3 only)
# Nothing heavy may run beside it: the bench figures need the machine to themselves. Everything
# it prints is also written to $T/NAME-evaluation.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=${1:?usage: scripts/evaluate_stage.sh NAME (a run folder under ~/.cache/verisum/train)}
T=${T:-$HOME/.cache/verisum/train}
EXPORTS=${EXPORTS:-$HOME/.cache/verisum/export}
DATA=${DATA:-../shared/data}
B="$DATA/bench-dev"
MODEL="$EXPORTS/$NAME"
[ -f "$T/$NAME/warm.pt" ] || { echo "no warm start at $T/$NAME/warm.pt" >&2; exit 2; }
source scripts/lodo_sets.sh
VARIANTS=(--variant nli+novelty --variant nli+novelty+align)
exec > >(tee -a "$T/$NAME-evaluation.txt") 2>&1
echo "== $NAME, $(date -u +%FT%TZ)"
if [ ! -f "$MODEL/model.onnx" ]; then
    verisum train export --ckpt "$T/$NAME/warm.pt" --base mpnet --out "$MODEL" --quantize int8 \
        --keep-fp32-outliers "${KEEP_OUTLIERS:-6}" --check-held-out "$DATA/nli"
fi
echo "== leave-one-dataset-out: $NAME"
/usr/bin/time -f "collected in %e s, peak RSS %M KB" \
    verisum eval "${SETS[@]}" --model "$MODEL" --rows "$T/rows-$NAME.jsonl" "${VARIANTS[@]}"
echo "== leave-one-dataset-out: fast (same sets, same floor)"
verisum eval "${SETS[@]}" --rows "$T/rows-minilm.jsonl" "${VARIANTS[@]}"
echo "== recombination set"
B="$B" scripts/recombined_eval.sh fast "$MODEL"
if [ -z "${SKIP_BENCH:-}" ]; then
    echo "== speed"
    rm -rf "$MODEL-joined" && mkdir "$MODEL-joined"
    ln -s "$MODEL/model.onnx" "$MODEL/tokenizer.json" "$MODEL-joined/"
    python -c 'import json, sys; c = json.load(open(sys.argv[1])); c["premises"] = "joined"; json.dump(c, open(sys.argv[2], "w"), indent=1)' \
        "$MODEL/config.json" "$MODEL-joined/config.json"
    verisum bench --model fast --model "$MODEL" --model "$MODEL-joined" --records 300 --runs 30 --long-words 0
fi
if [ ! -f "$T/$NAME/packed.pt" ]; then
    echo "== packed warm start (for warm/)"
    verisum train pack --ckpt "$T/$NAME/warm.pt" --out "$T/$NAME/packed.pt" --rank 128 --check-held-out "$DATA/nli"
fi
