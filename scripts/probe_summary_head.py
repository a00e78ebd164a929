"""Probes on stage 3 that learn from the summary labels, measured by the leave-one-dataset-out
protocol. Each claim's (joined premise, claim) pair is read once by the trained judge (``warm.pt``,
torch). ``lodo``: its [CLS] vector feeds a logistic head fitted, for each left-out set, on the
claims of the other nine sets; the head's log-odds score the summary alone or join the combiner's
features (nested: a training set's head score comes from a head fitted without it). ``spans``:
the fault head's per-token probabilities mark the rejected claims at a threshold fitted on the
other span-annotated sets.

Not part of verisum: a record of how the MPNet card's "After stage 3" figures were made.

    R=~/.cache/verisum/train; B=../shared/data/bench-dev   # $SETS: the ten sets, as in the card
    python scripts/probe_summary_head.py pairs --model ~/.cache/verisum/export/nli-mpnet-s3 --out $R/head-pairs.jsonl $SETS
    python scripts/probe_summary_head.py embed --ckpt $R/nli-mpnet-s3/warm.pt --base mpnet $R/head-pairs.jsonl --out $R/head-mpnet-s3.npz
    python scripts/probe_summary_head.py lodo $R/rows-mpnet-s3.jsonl $R/head-pairs.jsonl $R/head-mpnet-s3.npz --c 0.001 0.01 0.1
    python scripts/probe_summary_head.py tokens $R/head-pairs.jsonl --ckpt $R/nli-mpnet-s3/warm.pt --data $B --out $R/head-tokens-s3.jsonl
    python scripts/probe_summary_head.py spans $R/rows-mpnet-s3.jsonl $R/head-pairs.jsonl $R/head-tokens-s3.jsonl --data $B
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict

import numpy as np

from probe_after_stage2 import records  # the bench-dev records by id (same folder)
from verisum import lodo
from verisum.evaluation import claim_scores


def pairs(a: argparse.Namespace) -> None:
    """Each claim's joined premise, as the Checker retrieves it, without judging anything."""
    from verisum import Checker
    from verisum.checker import premise_text
    from verisum.evaluation import LabelledRecord, read_labelled
    from verisum.evaluation.fitting import analysed_chunks
    from verisum.judges.base import Judgement

    recs = [r for r in read_labelled(a.files) if isinstance(r, LabelledRecord)]
    params = {} if a.model == "fast" else {"model_dir": a.model}
    checker = Checker("embedded", judge_params=params).load().with_options(premises="sentences")
    flat = Judgement(1 / 3, 1 / 3, 1 / 3)
    checker._judge.judge = lambda ps: [flat] * len(ps)  # type: ignore[union-attr,method-assign]
    n = 0
    with open(os.path.expanduser(a.out), "w", encoding="utf-8") as fh:
        for chunk in analysed_chunks(checker, recs, batch_size=16):
            for r, an in chunk:
                row = {"id": r.id, "dataset": r.dataset, "label": r.label}
                if isinstance(an, Exception):
                    row["error"] = str(an)
                else:
                    row["claims"] = [{
                        "start": c.claim.span.start, "end": c.claim.span.end, "verbatim": c.verbatim,
                        "hyp": c.claim.hypothesis,
                        "premise": premise_text(c.evidence, c.premise_judgements[-1][0]) if c.premise_judgements else "",
                    } for c in an.claims]
                fh.write(json.dumps(row) + "\n")
                n += 1
            print(f"\r{n}/{len(recs)}", end="", file=sys.stderr)
    print(file=sys.stderr)


def _load(ckpt: str, base: str):
    """(model, tokenizer, the length it was trained at) of a warm start, for reading on the CPU."""
    import torch
    from transformers import AutoTokenizer

    from verisum.training.bases import resolve_base
    from verisum.training.export import load_model, trained_max_length

    torch.set_num_threads(2)
    model, st = load_model(os.path.expanduser(ckpt), base)
    return model, AutoTokenizer.from_pretrained(resolve_base(base)), trained_max_length(st)


def _encode(tok, premises: list[str], claims: list[str], length: int, **kw):
    """The pairs as the embedded judge cuts them: the premise first; both where the claim alone
    is longer than the input."""
    try:
        return tok(premises, claims, truncation="only_first", max_length=length, padding=True, return_tensors="pt", **kw)
    except Exception:
        return tok(premises, claims, truncation="longest_first", max_length=length, padding=True, return_tensors="pt", **kw)


def embed(a: argparse.Namespace) -> None:
    """The judge's [CLS] vector (last layer) and 3-way logits for every claim's pair."""
    import torch

    model, tok, trained = _load(a.ckpt, a.base)
    length = a.max_length or trained
    items = []
    with open(os.path.expanduser(a.pairs), encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            items.extend((c["premise"] or ".", c["hyp"]) for c in r.get("claims") or [])
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]) + len(items[i][1]))
    cls = np.zeros((len(items), model.config.hidden_size), dtype=np.float32)
    logits = np.zeros((len(items), 3), dtype=np.float32)
    t0 = time.time()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
        for k in range(0, len(order), a.batch_size):
            idx = order[k:k + a.batch_size]
            enc = _encode(tok, [items[i][0] for i in idx], [items[i][1] for i in idx], length)
            enc = {n: v for n, v in enc.items() if n != "token_type_ids"}
            out = model(**enc, output_hidden_states=True)
            cls[idx] = out.hidden_states[-1][:, 0, :].float().numpy()
            logits[idx] = out.logits.float().numpy()
            done = k + len(idx)
            print(f"\r{done}/{len(items)} {done / (time.time() - t0):.1f} pairs/s", end="", file=sys.stderr)
    print(file=sys.stderr)
    np.savez(os.path.expanduser(a.out), cls=cls, logits=logits)


def _claims(pairs_path: str, npz: str) -> dict[str, list[dict]]:
    with np.load(os.path.expanduser(npz)) as z:
        data = {k: z[k] for k in ("cls", "logits")}
    out, i = {}, 0
    with open(os.path.expanduser(pairs_path), encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            cs = r.get("claims") or []
            for c in cs:
                c["cls"], c["logits"] = data["cls"][i], data["logits"][i]
                i += 1
            out[r["id"]] = cs
    assert i == len(data["cls"]), (i, len(data["cls"]))
    return out


def _training_claims(rows: list[dict], heads: dict[str, list[dict]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vectors, labels, weights) of the claims a summary label speaks for: every claim of a
    faithful summary; of an unfaithful one, its sentence-labelled bad claims where known, else the
    claim the judge finds weakest. Weighted so each (set, label) counts the same."""
    xs, ys, ds = [], [], []
    for r in rows:
        cs = [c for c in heads[r["id"]] if not c["verbatim"]] or heads[r["id"]]
        if not cs:
            continue
        if r["label"] == 1:
            pick = [(c, 1) for c in cs]
        else:
            sl = r.get("sentence_labels")
            margin = [c["logits"][0] - np.logaddexp(c["logits"][1], c["logits"][2]) for c in cs]
            pick = [(cs[int(np.argmin(margin))], 0)]
            if sl:
                rc = {(c["start"], c["end"]): c for c in heads[r["id"]]}
                bad = [rc.get((c["start"], c["end"])) for c, lab in zip(r["claims"], _claim_sentence_labels(r)) if lab == 0]
                bad = [c for c in bad if c is not None]
                if bad:
                    pick = [(c, 0) for c in bad]
        for c, y in pick:
            xs.append(c["cls"])
            ys.append(y)
            ds.append(r["dataset"])
    counts: dict = defaultdict(int)
    for d, y in zip(ds, ys):
        counts[(d, y)] += 1
    w = np.array([1.0 / counts[(d, y)] for d, y in zip(ds, ys)])
    return np.array(xs), np.array(ys), w * len(w) / w.sum()


def _claim_sentence_labels(r: dict) -> list[int | None]:
    sl = r.get("sentence_labels") or []
    return [sl[c["sent"]] if c["sent"] < len(sl) else None for c in r["claims"]]


def _fit_head(rows: list[dict], heads: dict[str, list[dict]], c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y, w = _training_claims(rows, heads)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    model.fit(x, y, logisticregression__sample_weight=w)
    return model


def _score(rows: list[dict], heads: dict[str, list[dict]], head, name: str) -> None:
    """Write the head's log-odds into each row claim's features under ``name``."""
    for r in rows:
        hc = {(c["start"], c["end"]): c for c in heads[r["id"]]}
        vecs = [hc[(c["start"], c["end"])]["cls"] for c in r["claims"]]
        z = head.decision_function(np.array(vecs))
        for c, v in zip(r["claims"], z):
            c["features"] = {**c["features"], name: float(v)}


def lodo_(a: argparse.Namespace) -> None:
    from verisum.evaluation import balanced_accuracy, roc_auc

    heads = _claims(a.pairs, a.npz)
    rows = [r for r in lodo.premise_rule(lodo.read_rows(os.path.expanduser(a.rows)), "join_first")
            if r.get("claims") and r.get("label") is not None and r["id"] in heads]
    for r in rows:
        assert [(c["start"], c["end"]) for c in r["claims"]] == [(c["start"], c["end"]) for c in heads[r["id"]]], r["id"]
    sets = sorted({r["dataset"] for r in rows})
    base, _ = lodo.evaluate(rows, "nli+novelty")
    print("as shipped (nli+novelty, join first):",
          f"{100 * np.mean([x.balanced_accuracy for x in base]):.1f} / {np.mean([x.auc for x in base]):.3f}")
    lodo.VARIANTS["probe:head"] = lodo.VARIANTS["nli+novelty"] + (("head", +1),)
    lodo.VARIANTS["probe:head-only"] = (("head", +1),)
    for c in a.c:
        # the head alone: weakest claim's log-odds, threshold from the other sets
        alone, nested = [], {}
        for ds in sets:
            train = [r for r in rows if r["dataset"] != ds]
            test = [r for r in rows if r["dataset"] == ds]
            head = _fit_head(train, heads, c)
            _score(test, heads, head, "head")
            # nested: each training set scored by a head fitted without it (and without ds)
            inner = []
            for d2 in sorted({r["dataset"] for r in train}):
                sub = [dict(r, claims=[dict(x) for x in r["claims"]]) for r in train if r["dataset"] == d2]
                _score(sub, heads, _fit_head([r for r in train if r["dataset"] != d2], heads, c), "head")
                inner.extend(sub)
            nested[ds] = (inner, [dict(r, claims=[dict(x) for x in r["claims"]]) for r in test])
            s_tr = [min(x["features"]["head"] for x in r["claims"]) for r in inner]
            y_tr = [r["label"] for r in inner]
            thr = _best_threshold(s_tr, y_tr, [r["dataset"] for r in inner])
            s = [min(x["features"]["head"] for x in r["claims"]) for r in test]
            y = [r["label"] for r in test]
            alone.append((ds, balanced_accuracy([int(v >= thr) for v in s], y), roc_auc(s, y)))
        print(f"C={c}: head alone  " + f"{100 * np.mean([b for _, b, _ in alone]):.1f} / {np.mean([u for _, _, u in alone]):.3f}  "
              + " ".join(f"{d[:6]}={100 * b:.1f}/{u:.2f}" for d, b, u in alone))
        for variant in ("probe:head", "probe:head-only"):
            out = []
            for ds in sets:
                inner, test = nested[ds]
                res, _ = lodo.evaluate(inner + test, variant, held_out=[ds])
                out.extend(res)
            print(f"C={c}: {variant:16} {100 * np.mean([x.balanced_accuracy for x in out]):.1f} / {np.mean([x.auc for x in out]):.3f}  "
                  + " ".join(f"{x.dataset[:6]}={100 * x.balanced_accuracy:.1f}" for x in out))
    print("baseline per set:   " + " ".join(f"{x.dataset[:6]}={100 * x.balanced_accuracy:.1f}" for x in base))


def _best_threshold(s: list[float], y: list[int], groups: list[str]) -> float:
    """The threshold with the best mean per-set balanced accuracy over the training sets."""
    from verisum.evaluation import balanced_accuracy

    cands = np.quantile(s, np.linspace(0.02, 0.98, 97))
    best, thr = -1.0, float(np.median(s))
    for t in cands:
        accs = []
        for g in sorted(set(groups)):
            ii = [i for i, x in enumerate(groups) if x == g]
            accs.append(balanced_accuracy([int(s[i] >= t) for i in ii], [y[i] for i in ii]))
        if np.mean(accs) > best:
            best, thr = float(np.mean(accs)), float(t)
    return thr


def tokens(a: argparse.Namespace) -> None:
    """The fault head's P(at fault) of every hypothesis word piece, (start, end, p) in the
    hypothesis, for the claims of span-annotated records (one JSON line per record)."""
    import torch

    from verisum.training.nli import forward

    model, tok, length = _load(a.ckpt, a.base)
    spans = {rid for rid, r in records(a.data).items() if r.get("spans") is not None}
    with open(os.path.expanduser(a.pairs), encoding="utf-8") as fh:
        recs = [r for r in map(json.loads, fh) if r["id"] in spans and r.get("claims")]
    items = [(k, j) for k, r in enumerate(recs) for j in range(len(r["claims"]))]
    items.sort(key=lambda kj: len(recs[kj[0]]["claims"][kj[1]]["premise"]))
    t0 = time.time()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        for n in range(0, len(items), 16):
            batch = items[n:n + 16]
            cs = [recs[k]["claims"][j] for k, j in batch]
            enc = _encode(tok, [c["premise"] or "." for c in cs], [c["hyp"] for c in cs], length,
                          return_offsets_mapping=True)
            offsets = enc.pop("offset_mapping")
            seqs = [enc.sequence_ids(b) for b in range(len(cs))]
            enc = {k: v for k, v in enc.items() if k != "token_type_ids"}
            _, fl = forward(model, enc)
            prob = torch.sigmoid(fl.float()).numpy()
            for b, c in enumerate(cs):
                c["tokens"] = [[int(x), int(y), round(float(prob[b, t]), 4)] for t, ((x, y), sid) in
                               enumerate(zip(offsets[b].tolist(), seqs[b])) if sid == 1 and y > x]
            print(f"\r{n + len(batch)}/{len(items)} {(n + len(batch)) / (time.time() - t0):.1f} pairs/s", end="", file=sys.stderr)
    print(file=sys.stderr)
    with open(os.path.expanduser(a.out), "w", encoding="utf-8") as fh:
        for r in recs:
            fh.write(json.dumps({"id": r["id"], "tokens": [c.get("tokens", []) for c in r["claims"]]}) + "\n")


def _head_spans(summary: str, claim: dict, hyp: str, toks: list, t: float) -> list[tuple[int, int]]:
    """``verisum.faults.head_words`` on plain offsets: the hypothesis words with a piece at or
    above ``t``, found in order in the claim's text; fillers left out."""
    import re

    from verisum.faults import FILLERS
    marked = [m.group() for m in re.finditer(r"\w[\w'’-]*", hyp)
              if any(x < m.end() and m.start() < y and p >= t for x, y, p in toks)]
    text, out, pos = summary[claim["start"]:claim["end"]], [], 0
    for w in marked:
        if w.lower() in FILLERS:
            continue
        f = re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", text[pos:])
        if f is None:
            continue
        out.append((claim["start"] + pos + f.start(), claim["start"] + pos + f.start() + len(w)))
        pos += f.end()
    return out


def spans_(a: argparse.Namespace) -> None:
    """Char span F1 per span-annotated set, on the claims the left-out combiner rejects: the
    novel-word baseline, the shipped rule, and the head at a threshold fitted on the other sets."""
    from verisum.evaluation.metrics import f1, span_counts

    recs = records(a.data)
    toks = {}
    with open(os.path.expanduser(a.tokens), encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            toks[d["id"]] = d["tokens"]
    hyps = {}
    with open(os.path.expanduser(a.pairs), encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            hyps[d["id"]] = [c["hyp"] for c in d.get("claims") or []]
    rows = [r for r in lodo.premise_rule(lodo.read_rows(os.path.expanduser(a.rows)), "join_first")
            if r.get("claims") and r.get("label") is not None]
    span_sets = sorted({r["dataset"] for r in rows if r.get("spans") is not None})
    grid = [0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5]
    # per span set: its rejected claims under its own left-out combiner, and the counts of each rule
    counts: dict[str, dict] = {}
    for ds in span_sets:
        cal = lodo.fit([r for r in rows if r["dataset"] != ds], "nli+novelty")
        c = defaultdict(lambda: np.zeros(3))
        for r in (r for r in rows if r["dataset"] == ds and r.get("spans") is not None):
            gold = [tuple(s) for s in r["spans"]]
            cs = claim_scores(r["claims"], cal)
            rej = [(k, cl) for k, (cl, x) in enumerate(zip(r["claims"], cs)) if x < cal.threshold and not cl.get("verbatim")]
            summary = recs[r["id"]]["summary"]
            # "novel first", the rule that ships (as ``lodo.fault_rules`` rebuilds it from the rows)
            shipped = [tuple(f) for _, cl in rej for f in
                       (cl["novel_checker"] + cl["blamed"] if lodo._contradicted(cl) or not cl["novel_checker"]
                        else cl["novel_checker"])]
            whole = [(cl["start"], cl["end"]) for _, cl in rej]
            c["baseline"] += span_counts([tuple(w) for cl in r["claims"] for w in cl["novel"]], gold)
            c["shipped"] += span_counts(shipped, gold)
            c["whole claim"] += span_counts(whole, gold)
            for t in grid:
                head = [s for k, cl in rej for s in _head_spans(summary, cl, hyps[r["id"]][k], toks[r["id"]][k], t)]
                c[f"head@{t}"] += span_counts(head, gold)
                c[f"shipped+head@{t}"] += span_counts(shipped + head, gold)
        counts[ds] = c
    pct = lambda v: 100 * (f1(*map(int, v)) or 0.0)  # noqa: E731
    for ds in span_sets:
        c = counts[ds]
        line = [f"{ds[:10]:10} baseline {pct(c['baseline']):5.1f} novel first {pct(c['shipped']):5.1f} whole claim {pct(c['whole claim']):5.1f}"]
        for rule in ("head", "shipped+head"):
            # threshold with the best mean F1 over the other span sets
            others = [d for d in span_sets if d != ds]
            t = max(grid, key=lambda t: np.mean([pct(counts[d][f"{rule}@{t}"]) for d in others]))
            line.append(f"{rule.replace('shipped', 'novel first')} @{t} {pct(c[f'{rule}@{t}']):5.1f}")
        print(" | ".join(line))
    for rule in ("head", "shipped+head"):
        print(rule.replace("shipped", "novel first"), " ".join(f"@{t}:" + ",".join(f"{pct(counts[d][f'{rule}@{t}']):.0f}" for d in span_sets) for t in grid))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pairs")
    p.add_argument("files", nargs="+")
    p.add_argument("--model", default="fast")
    p.add_argument("--out", required=True)
    p.set_defaults(fn=pairs)
    p = sub.add_parser("embed")
    p.add_argument("pairs")
    p.add_argument("--ckpt", required=True)
    p.add_argument("--base", default="mpnet")
    p.add_argument("--out", required=True)
    p.add_argument("--max-length", type=int)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--no-bf16", dest="bf16", action="store_false")
    p.set_defaults(fn=embed)
    p = sub.add_parser("lodo")
    p.add_argument("rows")
    p.add_argument("pairs")
    p.add_argument("npz")
    p.add_argument("--c", type=float, nargs="+", default=[0.01])
    p.set_defaults(fn=lodo_)
    p = sub.add_parser("tokens")
    p.add_argument("pairs")
    p.add_argument("--ckpt", required=True)
    p.add_argument("--base", default="mpnet")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=tokens)
    p = sub.add_parser("spans")
    p.add_argument("rows")
    p.add_argument("pairs")
    p.add_argument("tokens")
    p.add_argument("--data", required=True)
    p.set_defaults(fn=spans_)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
