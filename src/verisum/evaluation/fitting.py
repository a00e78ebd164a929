"""What is fitted on summary data: the rows a Checker's analysis gives (``collect``), the
combiner fit (:func:`fit_combiner`, with the judge's vetoes: :func:`fit_vetoes`), re-scoring
cached rows, and ``verisum calibrate``."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from ..calibration import Vetoes
from ..errors import InputError, VerisumError
from .labelled import LabelledRecord
from .metrics import balanced_accuracy
from .report import Prediction, Row, report

def collect(
    checker: Any,
    records: Sequence[LabelledRecord],
    *,
    batch_size: int = 8,
    progress: Callable[[int, int | None], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Per record, everything a combiner fit needs, as a JSON-able dict (one per record, in
    order; a record that cannot be analysed gets ``"error"``)."""
    done = 0
    for chunk in analysed_chunks(checker, records, batch_size=batch_size):
        for r, a in chunk:
            yield _collected(r, a)
            done += 1
            if progress:
                progress(done, len(records))


def analysed_chunks(
    checker: Any, records: Sequence[LabelledRecord], *, batch_size: int = 8
) -> Iterator[list[tuple[LabelledRecord, Any]]]:
    """``Checker.analyse`` over the records, ``batch_size`` at a time: each chunk as (record,
    Analysis) pairs in order, a record that cannot be analysed paired with its error (the chunk
    is redone one record at a time, so only the culprit fails)."""
    for i in range(0, len(records), batch_size):
        chunk = records[i : i + batch_size]
        try:
            analysed: list[Any] = checker.analyse([(r.id, r.doc, r.summary) for r in chunk])
        except VerisumError:
            analysed = []
            for r in chunk:
                try:
                    analysed.extend(checker.analyse([(r.id, r.doc, r.summary)]))
                except VerisumError as exc:
                    analysed.append(exc)
        yield list(zip(chunk, analysed))


def _collected(r: LabelledRecord, a: Any) -> dict[str, Any]:
    from ..checker import premise_text
    from ..faults import locate_faults

    base: dict[str, Any] = {
        "id": r.id, "dataset": r.dataset, "origin": r.origin, "split": r.split, "label": r.label,
        "spans": None if r.spans is None else [list(s) for s in r.spans],
        "sentence_labels": None if r.sentence_labels is None else list(r.sentence_labels),
    }
    if isinstance(a, Exception):
        base["error"] = str(a)
        return base
    sent_of = {}
    for k, (_, cs) in enumerate(a.sentences):
        for c in cs:
            sent_of[(c.span.start, c.span.end)] = k
    claims = []
    for c in a.claims:
        faults = locate_faults(c.claim, a.source, (), a.index, c.evidence)
        claims.append({
            "sent": sent_of[(c.claim.span.start, c.claim.span.end)], "start": c.claim.span.start,
            "end": c.claim.span.end, "sent_start": c.claim.sentence.start, "sent_end": c.claim.sentence.end,
            "premise": premise_text(c.evidence, c.premise or None), "hypothesis": c.claim.hypothesis,
            "evidence": [[e.span.start, e.span.end, round(e.score, 4)] for e in c.evidence],
            "features": {k: round(float(v), 6) for k, v in c.features.items()},
            "faults": [[f.start, f.end] for f in faults],
        })
    base["claims"] = claims
    return base


def claim_targets(row: Mapping[str, Any]) -> tuple[list[tuple[int, int]], list[list[int]]]:
    """Claim-level training targets from a record's labels.

    Returns ``(certain, bags)``: ``certain`` is ``(claim index, label)`` for claims whose label
    is known (every claim of a faithful summary; claims that overlap an annotated span, or sit
    in a sentence labelled unfaithful on its own; claims of sentences without any span), and
    ``bags`` are groups of claim indices of which at least one is unfaithful but which one is
    not known (fitted as multiple-instance: the weakest claim of the bag counts as 0).
    """
    claims = row.get("claims") or []
    label = row.get("label")
    if label is None or not claims:
        return [], []
    if label == 1:
        return [(i, 1) for i in range(len(claims))], []
    certain: list[tuple[int, int]] = []
    bags: list[list[int]] = []
    spans = row.get("spans")
    n_sent = max(c["sent"] for c in claims) + 1
    if spans:
        for k in range(n_sent):
            idx = [i for i, c in enumerate(claims) if c["sent"] == k]
            hit = [i for i in idx if any(a < claims[i]["end"] and b > claims[i]["start"] for a, b in spans)]
            sent_hit = any(a < claims[idx[0]]["sent_end"] and b > claims[idx[0]]["sent_start"] for a, b in spans)
            if not sent_hit:
                certain += [(i, 1) for i in idx]
            else:
                certain += [(i, 0) for i in hit]
        return certain, bags
    sl = row.get("sentence_labels")
    if sl and len(sl) == n_sent:
        for k, lab in enumerate(sl):
            idx = [i for i, c in enumerate(claims) if c["sent"] == k]
            if lab == 1:
                certain += [(i, 1) for i in idx]
            elif len(idx) == 1:
                certain.append((idx[0], 0))
            else:
                bags.append(idx)
        return certain, bags
    if len(claims) == 1:
        return [(0, 0)], []
    return [], [list(range(len(claims)))]


def summary_scores(rows: Sequence[Mapping[str, Any]], calibrator: Any) -> np.ndarray:
    """P(faithful) per collected row: the weakest claim's calibrated score (NaN for errors)."""
    out = np.full(len(rows), np.nan)
    for i, r in enumerate(rows):
        if r.get("claims"):
            out[i] = float(calibrator.score_many([c["features"] for c in r["claims"]]).min())
    return out


def fit_combiner(
    rows: Sequence[Mapping[str, Any]],
    features: Sequence[str],
    *,
    l2: float = 1.0,
    mil_rounds: int = 2,
    summary_rounds: int = 3,
    balance: bool = True,
    threshold_objective: str = "mean",
    vetoes: bool = True,
) -> Any:
    """A :class:`~verisum.calibration.Calibrator` over ``features``, fitted at claim level on
    ``rows`` (see :func:`claim_targets`), then its threshold fitted on the same rows at summary
    level (the weakest claim), maximising the mean balanced accuracy over datasets (or, with
    ``threshold_objective="worst"``, the lowest dataset's), then (``vetoes``) the judge's
    vetoes by the same measure (:func:`fit_vetoes`)."""
    from ..calibration import Calibrator

    certain: list[tuple[dict, int, str]] = []
    bags: list[tuple[list[dict], str]] = []
    for r in rows:
        c_, b_ = claim_targets(r)
        claims = r.get("claims") or []
        certain += [(claims[i]["features"], lab, r["dataset"]) for i, lab in c_]
        bags += [([claims[i]["features"] for i in b], r["dataset"]) for b in b_]
    cal = Calibrator(tuple(features), l2=l2)

    def fit(extra: list[tuple[dict, int, str, float]]) -> None:
        data = [(f, lab, ds, 1.0) for f, lab, ds in certain] + extra
        X = [d[0] for d in data]
        y = [d[1] for d in data]
        w = np.array([d[3] for d in data])
        if balance:
            counts: dict[tuple[str, int], float] = defaultdict(float)
            for _, lab, ds, wt in data:
                counts[(ds, lab)] += wt
            w = w / np.array([counts[(ds, lab)] for _, lab, ds, _ in data])
        cal.fit(X, y, sample_weight=w)

    # Start with every claim of a bag as unfaithful (weight shared), then keep only its weakest.
    fit([(f, 0, ds, 1.0 / len(feats)) for feats, ds in bags for f in feats])
    for _ in range(mil_rounds):
        if not bags:
            break
        fit([(feats[int(np.argmin(cal.score_many(feats)))], 0, ds, 1.0) for feats, ds in bags])
    if summary_rounds:
        # The Checker scores a summary by its weakest claim, so fit on exactly that: each
        # summary's currently weakest claim with the summary's label (a few rounds).
        summaries = [(r["claims"], r["label"], r["dataset"]) for r in rows if r.get("claims") and r.get("label") is not None]
        for _ in range(summary_rounds):
            data = []
            for claims, lab, ds in summaries:
                feats = [c["features"] for c in claims]
                data.append((feats[int(np.argmin(cal.score_many(feats)))], lab, ds))
            counts: dict[tuple[str, int], int] = defaultdict(int)
            for _, lab, ds in data:
                counts[(ds, lab)] += 1
            w = [1.0 / counts[(ds, lab)] for _, lab, ds in data] if balance else None
            cal.fit([d[0] for d in data], [d[1] for d in data], sample_weight=w)
    labelled = [r for r in rows if r.get("claims") and r.get("label") is not None]
    s = summary_scores(labelled, cal)
    cal.fit_threshold(s, [r["label"] for r in labelled], groups=[r["dataset"] for r in labelled],
                      objective=threshold_objective)
    if vetoes:
        cal.vetoes = fit_vetoes(labelled, cal, objective=threshold_objective)
    return cal


#: The vetoes a fit chooses among (:func:`fit_vetoes`): a contradiction veto of 0.5, 0.7, 0.9
#: or none, with an unsupported veto of 0.8, 0.9 or none; the first pair is the default.
VETO_GRID: tuple[Vetoes, ...] = tuple(Vetoes(c, u) for c in (0.5, 0.7, 0.9, None) for u in (0.8, 0.9, None))
#: The default vetoes stand unless another pair reads at least this much better (mean balanced
#: accuracy over the fit's datasets) on the fit's own rows. Measured leave-one-dataset-out on
#: the ten bench-dev sets (2026-12-07, cached rows; the pair chosen on the nine training sets of
#: each fold): the fast model reads 64.9 with the defaults everywhere and 64.3 with the best pair
#: of each fold (no margin: near-ties of 0.1 point decided by noise), 64.9 with a margin of 0.5
#: or 1 point; MPNet stage 2r 65.4 with the defaults and 67.4 with any of the three margins,
#: stage 4 63.0 and 67.4.
VETO_MIN_GAIN = 0.01


def claim_scores(claims: Sequence[Mapping[str, Any]], calibrator: Any, *, vetoes: Vetoes | None = None,
                 scores: np.ndarray | None = None) -> np.ndarray:
    """Each collected claim's score as the Checker gives it: the combiner (or ``scores``, the
    combiner's already), the judge's vetoes (the calibrator's, or ``vetoes``) and 1.0 for a
    verbatim copy."""
    from ..checker import veto_score

    v = calibrator.vetoes if vetoes is None else vetoes
    raw = calibrator.score_many([c["features"] for c in claims]) if scores is None else scores
    return np.array([1.0 if c.get("verbatim", False) else veto_score(float(x), c["features"], calibrator.threshold, v)
                     for x, c in zip(raw, claims)])


def fit_vetoes(rows: Sequence[Mapping[str, Any]], calibrator: Any, *, objective: str = "mean",
               grid: Sequence[Vetoes] = VETO_GRID, min_gain: float = VETO_MIN_GAIN) -> Vetoes:
    """The judge's vetoes for a fitted ``calibrator`` (its threshold set): among ``grid``, the
    pair whose summary labels (the weakest claim at or above the threshold) read best on
    ``rows``, by the mean of the datasets' balanced accuracies (``objective="worst"``: the
    lowest); ``grid[0]`` unless another beats it by ``min_gain`` (:data:`VETO_MIN_GAIN` says
    what that margin was measured to be worth). The vetoes are read with the judge's
    probabilities, so a judge more confident than the one they were set for loses by them what
    the combiner would have got right."""
    if objective not in ("mean", "worst"):
        raise ValueError(f"objective must be 'mean' or 'worst', not {objective!r}")
    labelled = [r for r in rows if r.get("claims") and r.get("label") is not None]
    if not labelled or not grid:
        return grid[0] if grid else Vetoes()
    raw = [calibrator.score_many([c["features"] for c in r["claims"]]) for r in labelled]
    y = [int(r["label"]) for r in labelled]
    by_set: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(labelled):
        by_set[r["dataset"]].append(i)

    def value(v: Vetoes) -> tuple[float, float]:
        pred = [int(claim_scores(r["claims"], calibrator, vetoes=v, scores=s).min() >= calibrator.threshold)
                for r, s in zip(labelled, raw)]
        accs = []
        for idx in by_set.values():
            b = balanced_accuracy([pred[i] for i in idx], [y[i] for i in idx])
            if b is not None:
                accs.append(b)
        mean = float(np.mean(accs)) if accs else 0.0
        return (min(accs) if accs else 0.0, mean) if objective == "worst" else (mean, mean)

    base = value(grid[0])
    best, best_v = grid[0], base
    for v in grid[1:]:
        val = value(v)
        if val > best_v and val[0] >= base[0] + min_gain:
            best, best_v = v, val
    return best


def evaluate_cached(rows: Sequence[Mapping[str, Any]], calibrator: Any) -> list[Row]:
    """:func:`report` on collected rows scored by ``calibrator`` (no model runs)."""
    recs, preds = [], []
    s = summary_scores(rows, calibrator)
    for r, score in zip(rows, s):
        recs.append(LabelledRecord(
            id=r["id"], doc="", summary="", label=r.get("label"), dataset=r["dataset"], origin=r.get("origin", ""),
            spans=None if r.get("spans") is None else tuple(tuple(x) for x in r["spans"]),
        ))
        if r.get("error") is not None or math.isnan(score):
            preds.append(Prediction(r["id"], error=r.get("error", "no claims")))
            continue
        faults = []
        for c in r["claims"]:
            if float(calibrator.score(c["features"])) < calibrator.threshold:
                faults += [tuple(f) for f in c["faults"]]
        preds.append(Prediction(r["id"], float(score), int(score >= calibrator.threshold), tuple(faults)))
    return report(recs, preds)


def calibrate(
    checker: Any,
    records: Sequence[LabelledRecord],
    *,
    features: Sequence[str] | None = None,
    threshold_only: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
) -> Any:
    """A calibrator fitted on a user's labelled records: the combiner (over ``features``,
    default those of the checker's current combiner), its threshold and the judge's vetoes
    (:func:`fit_vetoes`), or only the threshold of the current combiner (its vetoes kept) with
    ``threshold_only``."""
    import copy

    checker.load()
    rows = list(collect(checker, records, progress=progress))
    rows = [r for r in rows if r.get("claims") and r.get("label") is not None]
    labels = [r["label"] for r in rows]
    if not rows or len(set(labels)) < 2:
        raise InputError("calibration needs labelled records of both classes (label 1 and label 0)")
    current = checker.calibrator_
    if threshold_only or len(rows) < 20:
        cal = copy.deepcopy(current)
        s = summary_scores(rows, cal)
        return cal.fit_threshold(s, labels)
    feats = tuple(features or (current.features if current.fitted else ("margin", "emb_best", "novel_share")))
    return fit_combiner(rows, feats)


# -- speed ----------------------------------------------------------------------------------
