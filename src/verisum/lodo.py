"""Leave-one-dataset-out: the project's evaluation protocol, and the combiner fit it judges.

Anything fitted on summary data (the combiner's weights and its threshold) is fitted on every
labelled set but one and scored on the one left out, for each set in turn; the figures a row
reports were never seen by what it scores. Beside every row, computed in the same run:

* the **cosine floor**: each summary sentence's best cosine to any source sentence under
  all-MiniLM-L6-v2 (the int8 build the package already uses, no training), the summary's score
  the mean over its sentences, its threshold fitted on the other sets like the checker's;
* the **novel-word span baseline**: every content word of the summary that the source never
  uses (stem match), scored like the checker's words at fault (character-level F1 against
  the records' ``spans``).

The combiner is a logistic regression over a *handful* of signals whose direction is fixed by
what they mean (:data:`VARIANTS`: more support raises the score, more contradiction or novelty
lowers it); a signal whose fitted weight comes out with the wrong sign is dropped and the rest
refitted, so a set cannot teach a signal the opposite of its meaning. Last round's choice among
many variants on small validation parts overfitted them; here there are three variants, and
the protocol reports each on every left-out set.

    rows = collect(checker, records)           # the slow part: the judge on every claim
    table = evaluate(rows, "nli+novelty")      # LODO rows, floor and baseline beside each
    combiner = fit(rows, "nli+novelty")        # the shipped fit: every set
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .evaluation import (LabelledRecord, analysed_chunks, balanced_accuracy, claim_scores, f1, fit_combiner, fit_vetoes, roc_auc,
                         span_counts)

__all__ = ["VARIANTS", "FAULT_RULES", "premise_rule", "collect", "read_rows", "write_rows", "evaluate", "fit", "fault_rules", "LodoRow",
           "format_lodo", "threshold_table"]

#: Each variant: (feature, sign) pairs; sign +1 when a larger value means "more supported".
#: The judge enters as one signal, its support margin (:func:`verisum.features.margin`): with
#: its two log-odds as separate signals the fit dropped ``logit_contradicted`` (wrong sign once
#: ``logit_supported`` is in) and with it what contradiction says about a summary; measured on
#: the same cached rows (ten sets, ``nli+novelty``), the margin read 64.9 / 0.709 against 61.3 /
#: 0.700 for the fast model and 65.4 / 0.710 against 64.6 / 0.707 for MPNet stage 2r (the fast
#: model's card, "The support margin").
VARIANTS: dict[str, tuple[tuple[str, int], ...]] = {
    "nli": (("margin", +1),),
    "nli+novelty": (("margin", +1), ("novel_share", -1), ("novel_ents", -1), ("novel_nums", -1)),
    "nli+novelty+align": (("margin", +1), ("novel_share", -1), ("novel_ents", -1), ("novel_nums", -1),
                          ("align_mean", +1), ("emb_best", +1)),
}

Progress = Callable[[int, int | None], None]


# -- collecting -------------------------------------------------------------------------------
def collect(checker: Any, records: Sequence[LabelledRecord], *, batch_size: int = 8,
            progress: Progress | None = None) -> list[dict[str, Any]]:
    """Per record, everything the protocol needs, as JSON-able dicts in input order: each
    claim's features, its words at fault from the model (for records with ``spans``, the only
    ones they are scored on), the novel-word baseline's spans, and the cosine floor."""
    from .checker import contradicts
    from .encoder import Encoder
    from .faults import novel_words
    from .verdicts import Label

    # Every premise of every claim is judged and kept, so the protocol can also score the
    # cheaper "join first" rule on the same run (``premise_rule``).
    checker = checker.load().with_options(premises="sentences")
    encoder = Encoder()
    doc_cache: dict[str, np.ndarray] = {}
    out: list[dict[str, Any]] = []
    for chunk in analysed_chunks(checker, records, batch_size=batch_size):
        want_faults = []
        for r, a in chunk:
            if isinstance(a, Exception):
                continue
            if r.spans is not None:
                for c in a.claims:
                    if not c.verbatim:
                        c.label = Label.CONTRADICTED if contradicts(c) else Label.UNSUPPORTED
                        want_faults.append((a, c))
        checker.locate_faults(want_faults, occlude="always")
        for r, a in chunk:
            row: dict[str, Any] = {
                "id": r.id, "dataset": r.dataset, "label": r.label,
                "spans": None if r.spans is None else [list(s) for s in r.spans],
                "sentence_labels": None if r.sentence_labels is None else list(r.sentence_labels),
            }
            if isinstance(a, Exception):
                row["error"] = str(a)
                out.append(row)
                continue
            sent_of = {}
            for k, (_, cs) in enumerate(a.sentences):
                for c in cs:
                    sent_of[(c.span.start, c.span.end)] = k
            row["claims"] = [{
                "sent": sent_of[(c.claim.span.start, c.claim.span.end)],
                "start": c.claim.span.start, "end": c.claim.span.end,
                "sent_start": c.claim.sentence.start, "sent_end": c.claim.sentence.end,
                "verbatim": c.verbatim,
                "features": {k: round(float(v), 6) for k, v in c.features.items()},
                "faults": [[f.start, f.end] for f in c.faults] if c.label != Label.SUPPORTED or c.verbatim else None,
                "blamed": [[f.start, f.end] for f in c.blamed],
                "premises": [[int(len(p) > 1 or len(c.evidence) == 1), round(j.supported, 6), round(j.contradicted, 6),
                              round(j.unsupported, 6)] for p, j in c.premise_judgements],
                "novel_checker": [[f.start, f.end] for f in c.novel],
                "head": [[f.start, f.end] for f in c.head],
                "novel": [[w.start, w.end] for w in novel_words(c.claim, a.source, a.index, keep_fillers=True)],
            } for c in a.claims]
            row["floor"] = _cosine_floor(encoder, a, doc_cache)
            out.append(row)
        if progress:
            progress(len(out), len(records))
    return out


def read_rows(path: str) -> list[dict[str, Any]]:
    """Rows :func:`collect` wrote with :func:`write_rows` (the ``--rows`` cache). A cache
    collected before the judge's ``margin`` was a feature gets it from the two log-odds it holds."""
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    for r in rows:
        for c in r.get("claims") or ():
            f = c.get("features") or {}
            if "margin" not in f and "logit_supported" in f and "logit_contradicted" in f:
                f["margin"] = round(f["logit_supported"] - f["logit_contradicted"], 6)
    return rows


def write_rows(path: str, rows: Sequence[Mapping[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def _cosine_floor(encoder: Any, a: Any, cache: dict[str, np.ndarray]) -> float:
    """Mean over summary sentences of the best cosine to any source sentence."""
    key = hashlib.sha1(a.source.text.encode("utf-8", "surrogatepass")).hexdigest()
    if key not in cache:
        cache[key] = encoder.encode([s.text for s in a.source.sentences])
    src = cache[key]
    summ = encoder.encode([s.text for s, _ in a.sentences])
    if len(src) == 0 or len(summ) == 0:
        return 0.0
    return float((summ @ src.T).max(axis=1).mean())


# -- fitting ----------------------------------------------------------------------------------
def fit(rows: Sequence[Mapping[str, Any]], variant: str, *, l2: float = 1.0, threshold_objective: str = "mean") -> Any:
    """The variant's combiner fitted on ``rows`` (claim level, then its threshold and the
    judge's vetoes at summary level: see :func:`verisum.evaluation.fit_combiner`), with every
    weight's sign as :data:`VARIANTS` says; a signal that comes out the wrong way round is
    dropped."""
    signs = dict(VARIANTS[variant])
    feats = [f for f, _ in VARIANTS[variant]]
    usable = [r for r in rows if r.get("claims") and r.get("label") is not None]
    while True:
        cal = fit_combiner(usable, feats, l2=l2, threshold_objective=threshold_objective, vetoes=False)
        wrong = [f for f, w in zip(feats, cal.coef_) if w * signs[f] < 0]
        if not wrong or len(feats) == 1:
            cal.vetoes = fit_vetoes(usable, cal, objective=threshold_objective)
            return cal
        feats = [f for f in feats if f not in wrong]


# -- scoring ----------------------------------------------------------------------------------
def summary_score(row: Mapping[str, Any], cal: Any) -> tuple[float, float]:
    """(the summary's score: mean over sentences of the weakest claim; its weakest claim)."""
    s = claim_scores(row["claims"], cal)
    per_sent: dict[int, float] = {}
    for c, x in zip(row["claims"], s):
        per_sent[c["sent"]] = min(per_sent.get(c["sent"], 1.0), float(x))
    return float(np.mean(list(per_sent.values()))), float(s.min())


@dataclass(frozen=True, slots=True)
class LodoRow:
    dataset: str
    n: int
    balanced_accuracy: float | None
    auc: float | None
    span_f1: float | None
    floor_balanced_accuracy: float | None
    floor_auc: float | None
    baseline_span_f1: float | None
    threshold: float
    features: tuple[str, ...]
    vetoes: tuple[float | None, float | None]  # (contradicted, unsupported) as the fold's fit chose them; None: off

    def to_dict(self) -> dict[str, Any]:
        def pct(x: float | None) -> float | None:
            return None if x is None else round(100 * x, 1)

        return {"dataset": self.dataset, "n": self.n, "balanced_accuracy": pct(self.balanced_accuracy),
                "auc": None if self.auc is None else round(self.auc, 3), "span_f1": pct(self.span_f1),
                "floor_balanced_accuracy": pct(self.floor_balanced_accuracy),
                "floor_auc": None if self.floor_auc is None else round(self.floor_auc, 3),
                "baseline_span_f1": pct(self.baseline_span_f1), "threshold": round(self.threshold, 4),
                "features": list(self.features),
                "vetoes": {"contradicted": self.vetoes[0], "unsupported": self.vetoes[1]}}


def _spanf1(rows: Sequence[Mapping[str, Any]], predicted: Sequence[list[tuple[int, int]]]) -> float | None:
    tp = fp = fn = 0
    seen = False
    for r, pred in zip(rows, predicted):
        if r.get("spans") is None:
            continue
        seen = True
        a, b, c = span_counts(pred, [tuple(s) for s in r["spans"]])
        tp, fp, fn = tp + a, fp + b, fn + c
    return f1(tp, fp, fn) if seen else None


def evaluate(rows: Sequence[Mapping[str, Any]], variant: str, *, l2: float = 1.0,
             held_out: Sequence[str] | None = None,
             threshold_objective: str = "mean") -> tuple[list[LodoRow], dict[str, list[tuple[float, float, int]]]]:
    """LODO rows for ``variant`` (one per dataset, ``held_out`` or all), and per dataset the
    held-out (score, weakest-claim score, label) of every record, for threshold tables.
    ``threshold_objective``: what the threshold maximises on the training sets, the mean of
    their balanced accuracies or the lowest one (see :func:`verisum.calibration.best_threshold`)."""
    from .calibration import Calibrator

    usable = [r for r in rows if r.get("claims") and r.get("label") is not None]
    datasets = sorted({r["dataset"] for r in usable}) if held_out is None else list(held_out)
    out, scored = [], {}
    for ds in datasets:
        train = [r for r in usable if r["dataset"] != ds]
        test = [r for r in usable if r["dataset"] == ds]
        if not test:
            continue
        cal = fit(train, variant, l2=l2, threshold_objective=threshold_objective)
        ss = [summary_score(r, cal) for r in test]
        y = [int(r["label"]) for r in test]
        pred = [int(weak >= cal.threshold) for _, weak in ss]
        faults = []
        for r in test:
            cs = claim_scores(r["claims"], cal)
            faults.append([tuple(f) for c, x in zip(r["claims"], cs) if x < cal.threshold
                           for f in (c["faults"] or [])])
        baseline = [[tuple(w) for c in r["claims"] for w in c["novel"]] for r in test]
        floor = Calibrator().fit_threshold([r["floor"] for r in train], [r["label"] for r in train],
                                           groups=[r["dataset"] for r in train])
        fpred = [int(r["floor"] >= floor.threshold) for r in test]
        out.append(LodoRow(
            dataset=ds, n=len(test), balanced_accuracy=balanced_accuracy(pred, y),
            auc=roc_auc([s for s, _ in ss], y), span_f1=_spanf1(test, faults),
            floor_balanced_accuracy=balanced_accuracy(fpred, y), floor_auc=roc_auc([r["floor"] for r in test], y),
            baseline_span_f1=_spanf1(test, baseline), threshold=float(cal.threshold), features=tuple(cal.features),
            vetoes=(cal.vetoes.contradicted, cal.vetoes.unsupported),
        ))
        scored[ds] = [(s, w, lab) for (s, w), lab in zip(ss, y)]
    return out, scored


def premise_rule(rows: Sequence[Mapping[str, Any]], rule: str) -> list[dict[str, Any]]:
    """The rows as the Checker would have read them under premise ``rule``: "sentences" (every
    premise: the rows as collected), "join_first" (the join alone where it settles the claim,
    see :func:`verisum.checker.join_settles`) or "joined" (the join alone); each claim's judge
    features are recomputed from the premises that rule asks about, and ``pairs`` counts them."""
    from .checker import JOIN_SETTLES
    from .features import logit, margin

    out = []
    for r in rows:
        if not r.get("claims"):
            out.append(dict(r))
            continue
        claims = []
        for c in r["claims"]:
            prem = c.get("premises") or []
            used = prem
            if rule in ("join_first", "joined") and prem:
                join = [p for p in prem if p[0]] or prem[-1:]
                if rule == "joined" or len(prem) == 1 or join[0][1] - join[0][2] >= JOIN_SETTLES:
                    used = join[:1]
            c = dict(c)
            c["pairs"] = len(used)
            if used and not c.get("verbatim"):
                _, sup, con, uns = max(used, key=lambda p: p[1] - p[2])
                f = dict(c["features"])
                f.update({"supported": sup, "contradicted": con, "unsupported": uns,
                          "logit_supported": logit(sup), "logit_contradicted": logit(con), "margin": margin(sup, con),
                          "max_contradicted": max(p[2] for p in used)})
                c["features"] = f
            claims.append(c)
        out.append({**r, "claims": claims})
    return out


def _contradicted(claim: Mapping[str, Any]) -> bool:
    """The Checker's *contradicted* test on a row's claim: some premise's most likely reading."""
    return any(p[2] > max(p[1], p[3]) for p in claim.get("premises") or ())


#: Rules for the words at fault, compared on the same rejected claims (``fault_rules``):
#: "novel first" ships (the words the source never uses; the judge's blame by occlusion as
#: well for a contradicted claim or one without such words).
FAULT_RULES = ("novel first", "novel + blamed", "blamed only")


def fault_rules(rows: Sequence[Mapping[str, Any]], variant: str, *, l2: float = 1.0) -> dict[str, dict[str, float | None]]:
    """Character-level span F1 of each rule in :data:`FAULT_RULES` and of the novel-word baseline,
    per span-annotated dataset, on the claims the left-out combiner rejects (rows collected with
    both parts kept: ``blamed`` and ``novel_checker``)."""
    usable = [r for r in rows if r.get("claims") and r.get("label") is not None]
    out: dict[str, dict[str, float | None]] = {}
    for ds in sorted({r["dataset"] for r in usable if r.get("spans") is not None}):
        train = [r for r in usable if r["dataset"] != ds]
        test = [r for r in usable if r["dataset"] == ds]
        cal = fit(train, variant, l2=l2)
        has_head = any(c.get("head") for r in usable for c in r["claims"])
        rules = FAULT_RULES + (("head", "novel first + head") if has_head else ())
        preds: dict[str, list[list[tuple[int, int]]]] = {k: [] for k in rules}
        for r in test:
            cs = claim_scores(r["claims"], cal)
            rejected = [c for c, x in zip(r["claims"], cs) if x < cal.threshold and not c.get("verbatim")]
            novel = [[tuple(f) for f in c.get("novel_checker", [])] for c in rejected]
            blamed = [[tuple(f) for f in c.get("blamed", [])] for c in rejected]
            contra = [_contradicted(c) for c in rejected]
            preds["novel first"].append([f for n, b, k in zip(novel, blamed, contra) for f in (n + b if k or not n else n)])
            preds["novel + blamed"].append([f for n, b in zip(novel, blamed) for f in n + b])
            preds["blamed only"].append([f for b in blamed for f in b])
            if has_head:  # the judge's fault head, alone and beside the rule that ships
                head = [[tuple(f) for f in c.get("head", [])] for c in rejected]
                preds["head"].append([f for h in head for f in h])
                preds["novel first + head"].append([f for n, b, k, h in zip(novel, blamed, contra, head)
                                                    for f in (n + b if k or not n else n) + h])
        out[ds] = {k: _spanf1(test, v) for k, v in preds.items()}
        out[ds]["baseline"] = _spanf1(test, [[tuple(w) for c in r["claims"] for w in c["novel"]] for r in test])
    return out


def threshold_table(scored: Mapping[str, Sequence[tuple[float, float, int]]],
                    thresholds: Sequence[float] = (0.3, 0.4, 0.5, 0.6, 0.7)) -> list[dict[str, float]]:
    """Precision and recall of *flagging* unfaithful summaries (weakest claim below the
    threshold), pooled over the held-out predictions, at a few thresholds; the mean recall of
    faithful summaries passed too."""
    pooled = [x for v in scored.values() for x in v]
    weak = np.array([w for _, w, _ in pooled])
    y = np.array([lab for _, _, lab in pooled])
    out = []
    for t in thresholds:
        flagged = weak < t
        tp = int((flagged & (y == 0)).sum())
        prec = tp / max(int(flagged.sum()), 1)
        rec = tp / max(int((y == 0).sum()), 1)
        passed = float((~flagged[y == 1]).mean()) if (y == 1).any() else math.nan
        out.append({"threshold": t, "flag_precision": round(prec, 3), "flag_recall": round(rec, 3),
                    "faithful_passed": round(passed, 3), "n": len(pooled)})
    return out


def format_lodo(results: Mapping[str, Sequence[LodoRow]]) -> str:
    """One table per variant, the floor and baseline beside every row, means at the end; each
    row's threshold and vetoes (contradicted / unsupported, "-" off) as its fold fitted them."""
    def f(x: float | None, pct: bool = True) -> str:
        return "-" if x is None else (f"{100 * x:.1f}" if pct else f"{x:.3f}")

    def v(x: float | None) -> str:
        return "-" if x is None else f"{x:g}"

    lines = []
    for variant, rows in results.items():
        lines.append(f"variant {variant} (leave-one-dataset-out; floor = all-MiniLM-L6-v2 cosine, "
                     "baseline = novel content words)")
        lines.append(f"{'left out':<22} {'n':>5} {'BAcc':>6} {'AUC':>6} {'span F1':>8} | "
                     f"{'floor BAcc':>10} {'floor AUC':>9} {'base F1':>8} | {'threshold':>9} {'vetoes':>7}")
        for r in rows:
            lines.append(f"{r.dataset:<22} {r.n:>5} {f(r.balanced_accuracy):>6} {f(r.auc, False):>6} "
                         f"{f(r.span_f1):>8} | {f(r.floor_balanced_accuracy):>10} {f(r.floor_auc, False):>9} "
                         f"{f(r.baseline_span_f1):>8} | {r.threshold:>9.4f} {v(r.vetoes[0]) + '/' + v(r.vetoes[1]):>7}")
        b = [r.balanced_accuracy for r in rows if r.balanced_accuracy is not None]
        fb = [r.floor_balanced_accuracy for r in rows if r.floor_balanced_accuracy is not None]
        a = [r.auc for r in rows if r.auc is not None]
        fa = [r.floor_auc for r in rows if r.floor_auc is not None]
        lines.append(f"{'mean':<22} {'':>5} {f(float(np.mean(b)) if b else None):>6} "
                     f"{f(float(np.mean(a)) if a else None, False):>6} "
                     f"{'':>8} | {f(float(np.mean(fb)) if fb else None):>10} "
                     f"{f(float(np.mean(fa)) if fa else None, False):>9}")
        lines.append("")
    return "\n".join(lines)
