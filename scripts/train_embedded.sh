#!/usr/bin/env bash
# Reproduce the embedded judge (src/verisum/models/nli-minilm) end to end:
#   data generation -> surface-feature balancing -> bench-dev pairs -> training -> ONNX int8 export.
# Every step is deterministic (seed 13) and skipped when its output exists; training resumes
# from .train/run1/ckpt automatically.  Usage: scripts/train_embedded.sh [extra trainer args]
#   env: DATA=/work/shared/data  RUN=.train/run1  STEPS=1800  THREADS=1  DEADLINE=<unix time>
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
RUN=${RUN:-.train/run1}
STEPS=${STEPS:-1800}
THREADS=${THREADS:-1}   # on a shared 2-core box 1 thread was 4x faster than 2
export PYTHONPATH=src OMP_NUM_THREADS=$THREADS
PY=${PY:-.venv/bin/python}
mkdir -p .train
[ -s .train/synth_train.jsonl ] || $PY -m verisum.training.synth --corpus "$DATA/news/corpus.jsonl" \
    --bench "$DATA/bench-dev" --out .train/synth_train.jsonl --val-out .train/synth_val.jsonl --seed 13 --workers 2
[ -s .train/synth_train_bal.jsonl ] || $PY -m verisum.training.synth --balance .train/synth_train.jsonl .train/synth_train_bal.jsonl
[ -s .train/bench_train.jsonl ] || $PY -m verisum.training.bench --bench "$DATA/bench-dev" --part train --out .train/bench_train.jsonl
[ -s .train/bench_val.jsonl ] || $PY -m verisum.training.bench --bench "$DATA/bench-dev" --part val --out .train/bench_val.jsonl
DL=()
[ -n "${DEADLINE:-}" ] && DL=(--deadline "$DEADLINE")
$PY -m verisum.training.trainer --data .train/synth_train_bal.jsonl --extra .train/bench_train.jsonl:4 \
    --val-synth .train/synth_val.jsonl --bench-val .train/bench_val.jsonl --out "$RUN" --threads "$THREADS" \
    --total-steps "$STEPS" --warmup 300 --eval-every 400 --ckpt-minutes 10 --seed 13 --resume "${DL[@]}" "$@"
CKPT="$RUN/best/model.pt"; [ -f "$CKPT" ] || CKPT="$RUN/ckpt/state.pt"
$PY -m verisum.training.export --ckpt "$CKPT" --out src/verisum/models/nli-minilm --check .train/synth_val.jsonl
