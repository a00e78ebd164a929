#!/usr/bin/env bash
# Reproduce the embedded judge (src/verisum/models/nli-minilm) and its combiner end to end:
#   NLI training (resumable) -> int8 ONNX export -> combiner fit, with the leave-one-dataset-out table.
# Usage: scripts/train_embedded.sh [extra trainer args]
#   env: DATA=../shared/data  RUN=.train/nli  PASSES=1  DEVICE=cpu|cuda  INIT=<warm.pt>  DEADLINE=<unix time>
# On a GPU (one prepared run, about 15 minutes on one H100/H200 for 4 passes):
#   DEVICE=cuda PASSES=4 BATCH=64 scripts/train_embedded.sh
# A run stops at DEADLINE (or on SIGTERM) with state.pt and warm.pt in RUN; rerunning the same
# command resumes from state.pt; on a fresh machine INIT=src/verisum/models/nli-minilm/warm.pt
# continues from the committed warm start instead.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
RUN=${RUN:-.train/nli}
PASSES=${PASSES:-1}
DEVICE=${DEVICE:-cpu}
BATCH=${BATCH:-32}
PY=${PY:-.venv/bin/python}
mkdir -p "$RUN"
ARGS=(--data "$DATA/nli" --out "$RUN" --device "$DEVICE" --total-passes "$PASSES" --batch-size "$BATCH" --resume)
[ -n "${DEADLINE:-}" ] && ARGS+=(--deadline "$DEADLINE")
[ -n "${INIT:-}" ] && ARGS+=(--init "$INIT")
$PY -m verisum.training.nli "${ARGS[@]}" "$@"
# Export on the CPU (int8 dynamic quantisation is a CPU kernel), then keep the warm start beside it.
CUDA_VISIBLE_DEVICES="" $PY -m verisum.training.export --ckpt "$RUN/warm.pt" --out src/verisum/models/nli-minilm
cp "$RUN/warm.pt" src/verisum/models/nli-minilm/warm.pt
B="$DATA/bench-dev"
SETS=("$B/frank.jsonl" "$B/polytope.jsonl" "$B/cliff.jsonl" "$B/summedits.jsonl" "$B/goyal21.jsonl"
      "$B/cao22_entfa.jsonl" "$B/xsumfaith.jsonl" "$B/cogensumm_sentpairs.jsonl")
rm -f "$RUN/rows.jsonl"
$PY -m verisum eval "${SETS[@]}" --protocol lodo --rows "$RUN/rows.jsonl"
$PY -m verisum.training.combiner --rows "$RUN/rows.jsonl" --variant "${VARIANT:-nli+novelty}"
