"""Fit the embedded judge's combiner on the bench-dev TRAINING part; report on VALIDATION.

    python scripts/fit_combiner.py                     # everything: collect (cached), judge, fit, ablate
    python scripts/fit_combiner.py --no-write          # same, but do not overwrite models/combiner.json
    python scripts/fit_combiner.py --model-dir DIR     # judge with another model folder
    python scripts/fit_combiner.py --encoder minilm    # for the MiniLM retriever -> models/combiner-minilm.json

Steps (library functions in verisum.evaluation):
1. collect: every bench-dev record through the Checker's retrieval and features (no judge),
   cached in artifacts/combiner-ENCODER/rows.jsonl (resumable; with the minilm encoder, the slow part);
2. rejudge: the cross-encoder's probabilities for every cached (premise, claim) pair, so a new
   model only costs this step;
3. fit each variant of the ablation on the TRAINING part (split_of(doc) == "train"), threshold
   included; report balanced accuracy / AUC / span F1 per set on the VALIDATION part;
4. write the best variant (mean balanced accuracy on validation over the target sets) to
   src/verisum/models/combiner.json (static encoder) or combiner-minilm.json, and the ablation
   to artifacts/combiner-ENCODER/ablation.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from verisum.features import ALIGN_FEATURES  # noqa: E402
from verisum.evaluation import (  # noqa: E402
    TARGET_SETS,
    LabelledRecord,
    collect,
    evaluate_cached,
    fit_combiner,
    format_table,
    mean_balanced_accuracy,
    read_labelled,
    rejudge,
)

BENCH = ROOT.parent / "shared" / "data" / "bench-dev"
ORDER = ["frank", "polytope", "cliff", "summedits", "goyal21", "cao22_entfa", "xsumfaith",
         "cogensumm_sentpairs"]  # WiCE (Wikipedia, 20k source sentences) only on request

FLOOR = ("emb_best",)
CHEAP = ("emb_sent", "emb_win", "lex_best", "lex_doc", "novel_share", "novel_ents", "novel_nums",
         "novel_dates", "novel_bigrams", "neg_mismatch", "n_words",
         "sum_emb_best", "sum_lex_best", "sum_lex_doc", "sum_novel_share")
JUDGE = ("logit_supported", "logit_contradicted")
JUDGE_KEYS = ("supported", "contradicted", "unsupported", "logit_supported", "logit_contradicted")
VARIANTS = {
    "floor": FLOOR,
    "features": CHEAP,
    "cross-encoder": ("logit_supported",),
    "cross-encoder+floor": JUDGE + FLOOR,
    "combined": JUDGE + CHEAP,
}


class NullJudge:
    """Collect-time stand-in: retrieval and features only; probabilities come in rejudge."""

    name = "null"

    def judge(self, pairs):
        from verisum.judges.base import Judgement

        return [Judgement(1 / 3, 1 / 3, 1 / 3) for _ in pairs]

    def params(self):
        return {}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _pick(recs: list, cap: int | None) -> list:
    """Every validation record; at most ``cap`` training records per set (a fixed choice)."""
    import hashlib

    val = [r for r in recs if r.split == "val"]
    train = [r for r in recs if r.split == "train"]
    if cap is not None and len(train) > cap:
        train = sorted(train, key=lambda r: hashlib.sha1(r.id.encode()).hexdigest())[:cap]
    return val + train


def do_collect(cache: Path, datasets: list[str], threads: int | None, train_cap: int | None = None,
               encoder: str = "static", shortlist: int | None = None) -> list[dict]:
    from verisum.checker import Checker
    from verisum.judges.embedded import EmbeddedJudge

    done: dict[str, dict] = {}
    if cache.exists():
        for line in cache.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            done[r["id"]] = r
    # The retriever the embedded judge brings for this encoder (its shortlist unless told).
    retriever = EmbeddedJudge(encoder=encoder, intra_op_num_threads=threads).retriever()
    if shortlist is not None:
        retriever.shortlist = None if shortlist == 0 else shortlist
    checker = Checker(NullJudge(), retriever=retriever)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache, "a", encoding="utf-8") as out:
        for ds in datasets:
            recs = _pick([r for r in read_labelled([BENCH / f"{ds}.jsonl"]) if isinstance(r, LabelledRecord)],
                         train_cap)
            todo = sorted((r for r in recs if r.id not in done), key=lambda r: r.doc)  # same doc together
            if not todo:
                continue
            log(f"collect {ds}: {len(todo)} of {len(recs)} records")
            t = time.time()
            for row in collect(checker, todo):
                out.write(json.dumps(row) + "\n")
                out.flush()
                done[row["id"]] = row
            log(f"collect {ds}: {time.time() - t:.0f}s")
    order = {ds: i for i, ds in enumerate(datasets)}
    return sorted((r for r in done.values() if r["dataset"] in order), key=lambda r: order[r["dataset"]])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=None,
                    help="collected rows [artifacts/combiner-ENCODER/rows.jsonl]")
    ap.add_argument("--datasets", nargs="*", default=ORDER)
    ap.add_argument("--model-dir", default=None, help="model folder to judge with [default: the packaged one]")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--encoder", choices=["static", "minilm"], default="static",
                    help="the retriever's sentence encoder; the combiner is written for it [static]")
    ap.add_argument("--shortlist", default=None,
                    help="sentences embedded per claim, or 'all' [default: the judge's own for the encoder]")
    ap.add_argument("--train-cap", type=int, default=200,
                    help="at most this many training records per set are collected (all validation ones are)")
    ap.add_argument("--no-judge", action="store_true", help="skip the cross-encoder (cheap variants only)")
    ap.add_argument("--collect-only", action="store_true")
    ap.add_argument("--no-collect", action="store_true", help="use the cache as it is (collect nothing new)")
    ap.add_argument("--no-write", action="store_true",
                    help="do not write the combiner (src/verisum/models/combiner.json, or combiner-minilm.json)")
    ap.add_argument("--ship", default=None, help="ship this variant instead of the best on validation")
    ap.add_argument("--l2", type=float, default=10.0)
    ap.add_argument("--summary-rounds", type=int, default=0,
                    help="refit rounds on each summary's weakest claim (0: claim-level targets only)")
    args = ap.parse_args()
    if args.cache is None:
        args.cache = ROOT / "artifacts" / f"combiner-{args.encoder}" / "rows.jsonl"

    if args.no_collect:
        rows = [json.loads(x) for x in args.cache.read_text(encoding="utf-8").splitlines()]
        rows = [r for r in rows if r["dataset"] in set(args.datasets)]
    else:
        shortlist = None if args.shortlist is None else 0 if args.shortlist == "all" else int(args.shortlist)
        rows = do_collect(args.cache, args.datasets, args.threads, args.train_cap, args.encoder, shortlist)
    if args.collect_only:
        return
    from verisum.features import add_summary_context

    for r in rows:  # recomputed here so a cache made before these features still works
        add_summary_context([c["features"] for c in r.get("claims") or []])
    variants = dict(VARIANTS)
    if args.encoder == "static":  # only the static vectors align word by word
        variants = {k: v + ALIGN_FEATURES if any(f in CHEAP for f in v) else v for k, v in variants.items()}
    model_info = None
    if args.no_judge:
        variants = {k: v for k, v in variants.items() if not any(f in JUDGE for f in v)}
    else:
        from verisum.judges.embedded import EmbeddedJudge, model_fingerprint

        judge = EmbeddedJudge(args.model_dir, intra_op_num_threads=args.threads)
        judge.load()
        fp = model_fingerprint(judge.path)
        judged = args.cache.parent / f"judged-{fp[:12]}.json"
        probs: dict[str, dict] = {}
        if judged.exists():
            probs = json.loads(judged.read_text(encoding="utf-8"))
        todo = [r for r in rows if r.get("claims") and r["id"] not in probs]
        n = sum(len(r["claims"]) for r in todo)
        log(f"rejudge {n} claims of {len(todo)} records with {judge.path} ({fp[:12]})")
        t = time.time()
        step = 200
        for i in range(0, len(todo), step):  # in steps, saved as it goes (resumable)
            part = todo[i : i + step]
            rejudge(part, judge)
            for r in part:
                probs[r["id"]] = [{k: c["features"][k] for k in c["features"] if k in JUDGE_KEYS} for c in r["claims"]]
            judged.write_text(json.dumps(probs), encoding="utf-8")
            log(f"rejudge: {min(i + step, len(todo))}/{len(todo)} records, {time.time() - t:.0f}s")
        for r in rows:
            for c, p in zip(r.get("claims") or [], probs.get(r["id"], [])):
                c["features"].update(p)
        model_info = str(judge.path)

    train = [r for r in rows if r["split"] == "train" and r.get("claims")]
    val = [r for r in rows if r["split"] == "val"]
    log(f"train records {len(train)}, validation records {len(val)}")
    results = {}
    for name, feats in variants.items():
        cal = fit_combiner(train, feats, l2=args.l2, summary_rounds=args.summary_rounds)
        table = evaluate_cached(val, cal)
        mean = mean_balanced_accuracy(table)
        results[name] = {"calibrator": cal, "rows": table, "mean": mean}
        print(f"\n== {name}: features {list(feats)}; threshold {cal.threshold:.4f} (fitted on train)")
        print(format_table(table))
    best = args.ship or max(results, key=lambda k: results[k]["mean"] or -1)
    print(f"\nbest on validation (mean balanced accuracy over {', '.join(TARGET_SETS)}): {best}")
    out_dir = args.cache.parent
    ablation = {
        name: {
            "features": list(r["calibrator"].features),
            "threshold": r["calibrator"].threshold,
            "mean_balanced_accuracy": None if r["mean"] is None else round(100 * r["mean"], 1),
            "validation": [row.to_dict() for row in r["rows"]],
        }
        for name, r in results.items()
    }
    ablation["_shipped"] = best
    ablation["_model"] = model_info
    (out_dir / "ablation.json").write_text(json.dumps(ablation, indent=1) + "\n", encoding="utf-8")
    if not args.no_write:
        from verisum.judges.embedded import COMBINERS

        target = COMBINERS[args.encoder]
        cal = results[best]["calibrator"]
        state = json.loads(cal.to_json())
        state["variant"] = best
        state["encoder"] = args.encoder
        state["fitted_on"] = "bench-dev training part (split_of(doc) == 'train'), scripts/fit_combiner.py"
        if model_info and any(f in JUDGE or f in ("supported", "contradicted", "unsupported") for f in cal.features):
            from verisum.judges.embedded import model_fingerprint

            state["model_sha256"] = model_fingerprint(Path(model_info))
        target.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        log(f"wrote {target} ({best})")


if __name__ == "__main__":
    main()
