#!/usr/bin/env bash
# Cross-fitting: a judge trained on labelled bench-dev summaries is measured only on summaries it
# never saw. BY=dataset (default): fold a trains on the second half of the ten sets (and the NLI
# mixture) and collects rows on the first half, fold b the other way round: each set is new to
# the judge that scores it. BY=document: fold a trains on the "train" side of the project's
# document split of every set (`verisum eval --split`) and collects rows on the "val" side,
# fold b the other way round: the judge knows each set, not its documents, as the benchmarks'
# held-back test parts measure it. The two folds' rows together give the ten-set
# leave-one-dataset-out table, printed beside REFERENCE's (a rows file of the judge it started
# from, collected with the same code).
#
#   scripts/crossfit.sh                       # the fast judge, from its committed warm start
#   BY=document scripts/crossfit.sh           # the same, cross-fitted by document
#   BASE=mpnet INIT=warm/nli-mpnet-stage2r.pt MAXLEN=256 scripts/crossfit.sh
#
# Environment: BY, B (bench-dev folder), NLI (NLI data), BASE, INIT, MAXLEN, PASSES (of the NLI
# mixture and the repeated rows together), REP_A / REP_B (how often each fold's rows repeat;
# BY=document: 20 / 30, fold a's side being the larger),
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
BY=${BY:-dataset}
case $BY in
  dataset) REP_A=${REP_A:-30}; REP_B=${REP_B:-20}; tag= ;;
  document) REP_A=${REP_A:-20}; REP_B=${REP_B:-30}; tag=-by-document ;;
  *) echo "crossfit: BY is dataset or document, not $BY" >&2; exit 2 ;;
esac
OUT=${OUT:-${VERISUM_TRAIN_DIR:-$HOME/.cache/verisum/train}/crossfit-$BASE$tag}
REFERENCE=${REFERENCE:-}
FAULT_HEAD=${FAULT_HEAD:-drop}
FAULT_HEAD_LR=${FAULT_HEAD_LR:-}
source scripts/lodo_sets.sh
FIRST=(frank cliff goyal21 llm_severity cogensumm_sentpairs)  # fold a's held-out sets
held() {  # the SETS files of fold $1's held-out half (BY=dataset)
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
  rep=REP_${fold^^}
  if [[ $BY == dataset ]]; then
    mapfile -t HELD < <(held $fold)
    leave=(); for s in "${HELD[@]}"; do leave+=(--leave-out "$(basename "$s" .jsonl)"); done
    seen=(); scored=()
  else  # every set; fold a trains on the "train" side and is scored on "val", fold b the reverse
    HELD=("${SETS[@]}"); leave=()
    if [[ $fold == a ]]; then seen=(--split train); scored=(--split val); else seen=(--split val); scored=(--split train); fi
  fi
  if [[ ! -s $OUT/rows-$fold.jsonl ]]; then
    bench=(); for s in "${SETS[@]}"; do bench+=(--bench "$s"); done
    [[ -s $OUT/bench-$fold.jsonl ]] || verisum train spans --perturbed 0 --fused 0 "${bench[@]}" "${leave[@]}" \
      "${seen[@]}" --out "$OUT/bench-$fold.jsonl"
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
    verisum eval "${HELD[@]}" "${scored[@]}" --model "$OUT/export-$fold" --rows "$OUT/rows-$fold.partial.jsonl" \
      --variant nli+novelty > /dev/null
    mv "$OUT/rows-$fold.partial.jsonl" "$OUT/rows-$fold.jsonl"
  fi
done
cat "$OUT/rows-a.jsonl" "$OUT/rows-b.jsonl" > "$OUT/rows.jsonl"
echo "== ten sets, each summary scored by the fold that never saw it (by $BY)"
verisum eval "${SETS[@]}" --rows "$OUT/rows.jsonl" --variant nli+novelty
if [[ -n $REFERENCE ]]; then
  echo "== the reference, same code"
  verisum eval "${SETS[@]}" --rows "$REFERENCE" --variant nli+novelty
fi
