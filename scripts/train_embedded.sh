#!/usr/bin/env bash
# Reproduce an embedded judge and its combiner end to end:
#   NLI training (resumable) -> ONNX export (checked on the held-out rows) -> combiner fit, with the
#   leave-one-dataset-out table on the ten bench-dev sets.
# Usage: scripts/train_embedded.sh [extra trainer args]
#   env: BASE=minilm|mpnet  DATA=../shared/data  RUN=<run folder>  PASSES=1  DEVICE=cpu|cuda
#        INIT=<warm.pt or model folder>  DEADLINE=<unix time>  QUANT=int8|int8-smooth|int8-tensor|fp32  KEEP_FP32=<regex>
#        KEEP_OUTLIERS=<k> (MatMuls kept fp32 for their outlier activations; mpnet 6, minilm 0)
# The run's state lives outside the work tree (RUN defaults to $VERISUM_TRAIN_DIR or
# ~/.cache/verisum/train, then nli-$BASE), so a fresh checkout on the same machine resumes it:
# rerunning the same command continues from RUN/state.pt. A run stops at DEADLINE (or on SIGTERM)
# at a checkpoint. On a fresh machine INIT=<a warm.pt> continues from a compact warm start,
# INIT=warm/nli-mpnet-stage1.pt from a committed packed one (verisum train pack), or
# INIT=src/verisum/models/nli-$BASE from the exported model (its ONNX weights read back).
#   BASE=mpnet scripts/train_embedded.sh            # MPNet-base: fetched and verified on first use
#   DEVICE=cuda PASSES=4 BATCH=64 scripts/train_embedded.sh   # one prepared GPU run
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${BASE:-minilm}
DATA=${DATA:-../shared/data}
PY=${PY:-python}
RUN=${RUN:-$($PY -c "from verisum.training.bases import train_dir; print(train_dir('nli-$BASE'))")}
PASSES=${PASSES:-1}
DEVICE=${DEVICE:-cpu}
OUT=src/verisum/models/nli-$BASE
if [ "$BASE" = mpnet ]; then
    BATCH=${BATCH:-32}; LR=${LR:-3e-5}; HEAD_LR=${HEAD_LR:-1e-4}; KEEP_OUTLIERS=${KEEP_OUTLIERS:-6}
else
    BATCH=${BATCH:-32}; LR=${LR:-4e-5}; HEAD_LR=${HEAD_LR:-2e-4}; KEEP_OUTLIERS=${KEEP_OUTLIERS:-0}
fi
mkdir -p "$RUN"
ARGS=(--data "$DATA/nli" --base "$BASE" --out "$RUN" --device "$DEVICE" --total-passes "$PASSES"
      --batch-size "$BATCH" --lr "$LR" --head-lr "$HEAD_LR" --resume)
[ -n "${DEADLINE:-}" ] && ARGS+=(--deadline "$DEADLINE")
[ -n "${INIT:-}" ] && ARGS+=(--init "$INIT")
$PY -m verisum.training.nli "${ARGS[@]}" "$@"
# Export on the CPU (int8 dynamic quantisation is a CPU kernel), measured on the held-out rows.
EXPORT=(--ckpt "$RUN/warm.pt" --base "$BASE" --out "$OUT" --quantize "${QUANT:-int8}" --check-held-out "$DATA/nli"
        --keep-fp32-outliers "$KEEP_OUTLIERS")
[ -n "${KEEP_FP32:-}" ] && EXPORT+=(--keep-fp32 "$KEEP_FP32")
CUDA_VISIBLE_DEVICES="" $PY -m verisum.training.export "${EXPORT[@]}"
# MiniLM's compact warm start (22 MB) is committed beside the model; MPNet's (172 MB) is not.
[ "$BASE" = minilm ] && cp "$RUN/warm.pt" "$OUT/warm.pt"
B="$DATA/bench-dev"
source scripts/lodo_sets.sh
rm -f "$RUN/rows.jsonl"
$PY -m verisum eval "${SETS[@]}" --protocol lodo --rows "$RUN/rows.jsonl" --model "$OUT"
# MiniLM's combiner is the packaged default (models/combiner.json); another model's sits beside it.
COMBINER=src/verisum/models/combiner.json
[ "$BASE" = minilm ] || COMBINER="$OUT/combiner.json"
$PY -m verisum.training.combiner --rows "$RUN/rows.jsonl" --variant "${VARIANT:-nli+novelty}" --model-dir "$OUT" \
    --out "$COMBINER"
