#!/usr/bin/env bash
# Cross-fitting by dataset: a judge trained on the labelled summaries of some bench-dev sets is
# measured only on the sets it never saw. Two folds: fold a trains on the second half of the
# ten sets (and the NLI mixture) and collects rows on the first half, fold b the other way
# round; the two halves' rows together give the ten-set leave-one-dataset-out table, printed
# beside REFERENCE's (a rows file of the judge it started from, collected with the same code).
#
#   scripts/crossfit.sh                       # the fast judge, from its committed warm start
#   BASE=mpnet INIT=warm/nli-mpnet-stage2r.pt MAXLEN=256 scripts/crossfit.sh
#
# Environment: B (bench-dev folder), NLI (NLI data), BASE, INIT, MAXLEN, PASSES (of the NLI
# mixture and the repeated rows together), REP_A / REP_B (how often each fold's rows repeat),
# OUT (the run's folder, outside the work tree), REFERENCE (rows to compare with; optional),
# FAULT_HEAD (keep: export the fault head the rows train, for the words-at-fault table;
# default drop) and FAULT_HEAD_LR (its learning rate; default --head-lr's).
# Each step is skipped when its output is there, so a stopped run picks up where it stopped
# (the training itself resumes from its checkpoint). The fast judge: about 45 minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-../shared/data/bench-dev}
NLI=${NLI:-../shared/data/nli}
BASE=${BASE:-minilm}
INIT=${INIT:-src/verisum/models/nli-minilm/warm.pt}
MAXLEN=${MAXLEN:-128}
PASSES=${PASSES:-0.12}
REP_A=${REP_A:-30}
REP_B=${REP_B:-20}
OUT=${OUT:-${VERISUM_TRAIN_DIR:-$HOME/.cache/verisum/train}/crossfit-$BASE}
REFERENCE=${REFERENCE:-}
FAULT_HEAD=${FAULT_HEAD:-drop}
FAULT_HEAD_LR=${FAULT_HEAD_LR:-}
source scripts/lodo_sets.sh
FIRST=(frank cliff goyal21 llm_severity cogensumm_sentpairs)  # fold a's held-out sets
held() {  # the SETS files of fold $1's held-out half
  for s in "${SETS[@]}"; do
    stem=$(basename "$s" .jsonl)
    inside=no; for f in "${FIRST[@]}"; do [[ $stem == "$f" ]] && inside=yes; done
    if [[ ($1 == a && $inside == yes) || ($1 == b && $inside == no) ]]; then echo "$s"; fi
  done
}
for s in "${SETS[@]}"; do [[ -f $s ]] || { echo "crossfit: $s is missing (set B)" >&2; exit 2; }; done
[[ -e $INIT ]] || { echo "crossfit: no warm start at $INIT (set INIT)" >&2; exit 2; }
mkdir -p "$OUT"
for fold in a b; do
  mapfile -t HELD < <(held $fold)
  rep=REP_${fold^^}
  if [[ ! -s $OUT/rows-$fold.jsonl ]]; then
    leave=(); for s in "${HELD[@]}"; do leave+=(--leave-out "$(basename "$s" .jsonl)"); done
    bench=(); for s in "${SETS[@]}"; do bench+=(--bench "$s"); done
    [[ -s $OUT/bench-$fold.jsonl ]] || verisum train spans --perturbed 0 --fused 0 "${bench[@]}" "${leave[@]}" \
      --out "$OUT/bench-$fold.jsonl"
    echo "== fold $fold: train $(date -u +%H:%M)"
    verisum train nli --data "$NLI" --base "$BASE" --init "$INIT" --first-pass 3 --max-length "$MAXLEN" \
      --spans "$OUT/bench-$fold.jsonl:${!rep}" --lr 2e-5 --head-lr 5e-5 --warmup 50 --total-passes "$PASSES" \
      ${FAULT_HEAD_LR:+--fault-head-lr "$FAULT_HEAD_LR"} \
      --ckpt-minutes 10 --out "$OUT/train-$fold" --resume > "$OUT/train-$fold.log" 2>&1
    tail -2 "$OUT/train-$fold.log"
    echo "== fold $fold: export $(date -u +%H:%M)"
    flags=(); [[ $BASE == mpnet ]] && flags=(--keep-fp32-outliers 6)
    [[ $FAULT_HEAD == keep ]] || flags+=(--without-fault-head)
    verisum train export --ckpt "$OUT/train-$fold/warm.pt" --out "$OUT/export-$fold" \
      "${flags[@]}" --check-held-out "$NLI" > "$OUT/export-$fold.log" 2>&1
    echo "== fold $fold: collect on ${HELD[*]##*/} $(date -u +%H:%M)"
    verisum eval "${HELD[@]}" --model "$OUT/export-$fold" --rows "$OUT/rows-$fold.partial.jsonl" \
      --variant nli+novelty > /dev/null
    mv "$OUT/rows-$fold.partial.jsonl" "$OUT/rows-$fold.jsonl"
  fi
done
cat "$OUT/rows-a.jsonl" "$OUT/rows-b.jsonl" > "$OUT/rows.jsonl"
echo "== ten sets, each scored by the fold that never saw it"
verisum eval "${SETS[@]}" --rows "$OUT/rows.jsonl" --variant nli+novelty
if [[ -n $REFERENCE ]]; then
  echo "== the reference, same code"
  verisum eval "${SETS[@]}" --rows "$REFERENCE" --variant nli+novelty
fi
