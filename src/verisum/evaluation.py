"""Measuring the checker: metrics, ``eval``, ``calibrate``, the combiner fit and ``bench``.

Records are ``../shared/data``'s labelled format::

    {"id", "doc", "summary", "label" (1 faithful / 0 not), optional "spans" (unsupported
     character spans of the summary), "sentence_labels", "dataset", "origin"}

Metrics (all in numpy, no scikit-learn): balanced accuracy (mean of the recall of each class)
at the checker's threshold, ROC AUC (rank statistic, ties counted half), and for records that
carry ``spans``, character-level F1 of the words marked at fault (micro-averaged over records).

The project's train / validation split of bench-dev is by document: see :func:`split_of`.
Figures are reported on the validation part; the combiner and its threshold are fitted on the
training part; the figures the project reports come from the leave-one-dataset-out protocol
of :mod:`verisum.lodo` (``verisum eval``), and the shipped combiner from ``verisum train combiner``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping, Sequence

import numpy as np

from .errors import BadRecord, InputError, VerisumError
from .records import iter_jsonl

__all__ = [
    "LabelledRecord",
    "Prediction",
    "Row",
    "split_of",
    "read_labelled",
    "analysed_chunks",
    "roc_auc",
    "balanced_accuracy",
    "span_counts",
    "predict",
    "report",
    "format_table",
    "collect",
    "claim_targets",
    "fit_combiner",
    "summary_scores",
    "evaluate_cached",
    "calibrate",
    "bench",
    "format_bench",
    "TARGET_SETS",
]

Split = Literal["train", "val", "all"]

#: The sets the issue's mean balanced-accuracy target is taken over.
TARGET_SETS = ("frank", "polytope", "cliff", "summedits", "goyal21", "cao22_entfa")


def split_of(doc: str) -> Literal["train", "val"]:
    """The project's document-level split of bench-dev: "val" for ~40% of documents.

    ``sha1(doc.strip()) % 5 < 2`` -> val; the same rule as ``verisum.training.bench.split_of``.
    """
    h = int(hashlib.sha1(doc.strip().encode("utf-8")).hexdigest(), 16)
    return "val" if h % 5 < 2 else "train"


# -- reading --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LabelledRecord:
    id: str
    doc: str
    summary: str
    label: int | None
    dataset: str = ""
    origin: str = ""
    spans: tuple[tuple[int, int], ...] | None = None
    sentence_labels: tuple[int, ...] | None = None
    line: int | None = None
    file: str = ""

    @property
    def split(self) -> str:
        return split_of(self.doc)


def _record(obj: Any, line: int, file: str) -> LabelledRecord:
    if not isinstance(obj, dict):
        raise BadRecord(f"{file}:{line}: a record must be a JSON object")
    doc = obj.get("doc", obj.get("article", obj.get("source")))
    summary = obj.get("summary")
    if not isinstance(doc, str) or not doc.strip():
        raise BadRecord(f"{file}:{line}: the record has no \"doc\" text")
    if isinstance(summary, list) and all(isinstance(x, str) for x in summary):
        summary = "\n".join(f"- {x}" for x in summary)
    if not isinstance(summary, str) or not summary.strip():
        raise BadRecord(f"{file}:{line}: the record has no \"summary\" text")
    label = obj.get("label")
    if label is not None:
        if label not in (0, 1, True, False):
            raise BadRecord(f"{file}:{line}: \"label\" must be 1 (faithful) or 0 (not), not {label!r}")
        label = int(label)
    spans = obj.get("spans")
    if spans is not None:
        if not isinstance(spans, list) or not all(isinstance(s, dict) for s in spans):
            raise BadRecord(f"{file}:{line}: \"spans\" must be a list of {{start, end}} objects")
        try:
            spans = tuple((int(s["start"]), int(s["end"])) for s in spans)
        except (TypeError, KeyError, ValueError):
            spans = None  # a span without offsets: the annotation cannot be scored by position
    sl = obj.get("sentence_labels")
    rid = obj.get("id")
    return LabelledRecord(
        id=str(rid) if rid is not None else f"{Path(file).stem}:{line}",
        doc=doc,
        summary=summary,
        label=label,
        dataset=str(obj.get("dataset") or Path(file).stem),
        origin=str(obj.get("origin") or ""),
        spans=spans,
        sentence_labels=tuple(int(x) for x in sl) if isinstance(sl, list) else None,
        line=line,
        file=file,
    )


def read_labelled(paths: Sequence[str | Path]) -> Iterator[LabelledRecord | tuple[str | None, int, VerisumError]]:
    """Records of JSONL files in order; a bad line yields ``(id, line, error)`` instead."""
    for path in paths:
        for n, obj in iter_jsonl(path):
            if isinstance(obj, json.JSONDecodeError):
                yield (None, n, BadRecord(f"{path}:{n}: not valid JSON ({obj.msg})"))
                continue
            try:
                yield _record(obj, n, str(path))
            except BadRecord as exc:
                rid = obj.get("id") if isinstance(obj, dict) else None
                yield (None if rid is None else str(rid), n, exc)


# -- metrics --------------------------------------------------------------------------------
def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float | None:
    """ROC AUC of ``scores`` for the positive class 1 (None when a class is missing)."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=int)
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=float)
    sorted_s = s[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def balanced_accuracy(predicted: Sequence[int], labels: Sequence[int]) -> float | None:
    """Mean recall of the classes present (None with no examples)."""
    p = np.asarray(predicted, dtype=int)
    y = np.asarray(labels, dtype=int)
    recalls = [float((p[y == c] == c).mean()) for c in (0, 1) if (y == c).any()]
    return float(np.mean(recalls)) if recalls else None


def span_counts(predicted: Iterable[tuple[int, int]], gold: Iterable[tuple[int, int]]) -> tuple[int, int, int]:
    """Character-level (true positives, false positives, false negatives)."""
    p: set[int] = set()
    for a, b in predicted:
        p.update(range(a, b))
    g: set[int] = set()
    for a, b in gold:
        g.update(range(a, b))
    return len(p & g), len(p - g), len(g - p)


def f1(tp: int, fp: int, fn: int) -> float | None:
    if tp + fp + fn == 0:
        return None
    return 2 * tp / (2 * tp + fp + fn)


# -- eval -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Prediction:
    id: str | None
    score: float | None = None
    label: int | None = None
    faults: tuple[tuple[int, int], ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.error is not None:
            return {"id": self.id, "error": self.error}
        return {"id": self.id, "score": round(float(self.score), 6), "label": self.label}


def predict(
    checker: Any,
    records: Sequence[LabelledRecord],
    *,
    batch_size: int = 16,
    progress: Callable[[int, int | None], None] | None = None,
) -> list[Prediction]:
    """One prediction per record, in order: P(faithful), the label at the checker's threshold,
    and the character spans marked at fault (or the error)."""
    from .records import Record, RecordError

    out: list[Prediction] = []
    items = [Record(r.id, r.doc, r.summary, r.line) for r in records]
    for item in checker.check_many(items, batch_size=batch_size, progress=progress):
        if isinstance(item, RecordError):
            out.append(Prediction(item.id, error=str(item.error)))
            continue
        faults = tuple((f.start, f.end) for sv in item.sentences for f in sv.faults)
        out.append(Prediction(item.id, float(item.score), int(item.ok), faults))
    return out


@dataclass(frozen=True, slots=True)
class Row:
    dataset: str
    origin: str  # "" = all origins of the dataset
    n: int
    balanced_accuracy: float | None
    auc: float | None
    span_f1: float | None
    errors: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset, "origin": self.origin or "all", "n": self.n,
            "balanced_accuracy": None if self.balanced_accuracy is None else round(100 * self.balanced_accuracy, 1),
            "auc": None if self.auc is None else round(self.auc, 3),
            "span_f1": None if self.span_f1 is None else round(100 * self.span_f1, 1),
            "errors": self.errors,
        }


def report(records: Sequence[LabelledRecord], predictions: Sequence[Prediction]) -> list[Row]:
    """Rows per dataset (all origins) and per (dataset, origin) when a dataset has several."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        groups[(r.dataset, "")].append(i)
        if r.origin:
            groups[(r.dataset, r.origin)].append(i)
    rows = []
    for (ds, origin), idx in sorted(groups.items()):
        if origin and len({records[i].origin for i in groups[(ds, "")]}) < 2:
            continue
        ok = [i for i in idx if predictions[i].error is None and records[i].label is not None]
        y = [records[i].label for i in ok]
        bacc = balanced_accuracy([predictions[i].label for i in ok], y) if ok else None
        auc = roc_auc([predictions[i].score for i in ok], y) if ok else None
        tp = fp = fn = 0
        has_spans = False
        for i in ok:
            if records[i].spans is not None:
                has_spans = True
                a, b, c = span_counts(predictions[i].faults, records[i].spans)
                tp, fp, fn = tp + a, fp + b, fn + c
        rows.append(Row(ds, origin, len(idx), bacc, auc, f1(tp, fp, fn) if has_spans else None,
                        sum(1 for i in idx if predictions[i].error is not None)))
    return rows


def mean_balanced_accuracy(rows: Sequence[Row], sets: Sequence[str] = TARGET_SETS) -> float | None:
    vals = [r.balanced_accuracy for r in rows if not r.origin and r.dataset in sets and r.balanced_accuracy is not None]
    return float(np.mean(vals)) if vals else None


def format_table(rows: Sequence[Row]) -> str:
    def f(x: float | None, pct: bool = True) -> str:
        return "-" if x is None else (f"{100 * x:.1f}" if pct else f"{x:.3f}")

    lines = [f"{'dataset':<22} {'origin':<12} {'n':>5} {'bal.acc':>8} {'AUC':>6} {'span F1':>8} {'errors':>6}"]
    for r in rows:
        lines.append(
            f"{r.dataset:<22} {(r.origin or 'all'):<12} {r.n:>5} {f(r.balanced_accuracy):>8} "
            f"{f(r.auc, False):>6} {f(r.span_f1):>8} {r.errors:>6}"
        )
    mean = mean_balanced_accuracy(rows)
    if mean is not None:
        present = [s for s in TARGET_SETS if any(r.dataset == s for r in rows)]
        lines.append(f"mean balanced accuracy over {', '.join(present)}: {100 * mean:.1f}")
    return "\n".join(lines)


# -- the combiner: features collected once, fitted many times -----------------------------
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
    from .checker import premise_text
    from .faults import locate_faults

    base = {
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
) -> Any:
    """A :class:`~verisum.calibration.Calibrator` over ``features``, fitted at claim level on
    ``rows`` (see :func:`claim_targets`), then its threshold fitted on the same rows at summary
    level (the weakest claim), maximising the mean balanced accuracy over datasets."""
    from .calibration import Calibrator

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
    cal.fit_threshold(s, [r["label"] for r in labelled], groups=[r["dataset"] for r in labelled])
    return cal


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
    default those of the checker's current combiner) and its threshold, or only the threshold
    of the current combiner with ``threshold_only``."""
    import copy

    checker.load()
    rows = list(collect(checker, records, progress=progress))
    rows = [r for r in rows if r.get("claims") and r.get("label") is not None]
    labels = [r["label"] for r in rows]
    if not rows or len(set(labels)) < 2:
        raise InputError("calibration needs labelled records of both classes (label 1 and label 0)")
    current = checker._calibrator
    if threshold_only or len(rows) < 20:
        cal = copy.deepcopy(current)
        s = summary_scores(rows, cal)
        return cal.fit_threshold(s, labels)
    feats = tuple(features or (current.features if current.fitted else ("logit_supported", "emb_best", "novel_share")))
    return fit_combiner(rows, feats)


# -- speed ----------------------------------------------------------------------------------
def _bench_article(words: int = 500) -> tuple[str, list[str]]:
    """A ~``words``-word article built from the packaged example (its sentences, repeated with
    numbered variations), and 3 highlights: two reworded from it and one with an invented
    clause, as in the seed."""
    from .document import Document

    from .resources import EXAMPLES_DIR

    path = EXAMPLES_DIR / "article.txt"
    text = path.read_text(encoding="utf-8")
    body = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(("- ", "* ", "• "))]
    doc = Document("\n".join(body[1:]))
    sents = [s.text for s in doc.sentences]
    out: list[str] = [body[0]]
    n, k = len(body[0].split()), 0
    while n + k < words:  # each sentence gets a one-word tag in ``_rotate``
        s = sents[k % len(sents)]
        if k >= len(sents):
            s = f"In update {k // len(sents)}, {s[0].lower()}{s[1:]}"
        out.append(s)
        n += len(s.split())
        k += 1
    # Reworded (an attribution added), so that no highlight takes the Checker's verbatim
    # shortcut; the invented clause makes the judge run, as it does for any claim the evidence
    # features do not support.
    highlights = [f"{s.rstrip('.')}, officials said." for s in (sents[0], sents[2])]
    highlights.append(f"{sents[len(sents) // 2].rstrip('.')}, delighting tourists from abroad.")
    return out[0] + "\n" + " ".join(out[1:]), highlights


def _rotate(article: str, k: int) -> str:
    """Variant ``k`` of the bench article: its sentences rotated and every one reworded, so no
    sentence of it was seen before and the retriever's embedding cache cannot help."""
    from .document import split_sentences

    spans = split_sentences(article)
    sents = [article[a:b] for a, b in spans]
    r = k % max(len(sents) - 1, 1)
    body = sents[1 + r :] + sents[1 : 1 + r]
    return " ".join(f"({k}.{i}) {s}" for i, s in enumerate(body))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def bench(
    checker_factory: Callable[[], Any],
    *,
    runs: int = 30,
    records: int = 2000,
    batch_size: int = 16,
    cold_start: bool = True,
    threads: int | None = None,
    long_words: int = 50_000,
) -> dict[str, Any]:
    """Speed figures: single-check latency, batch throughput, peak RSS, process cold start."""
    result: dict[str, Any] = {"cpu_count": os.cpu_count()}
    if cold_start:
        code = (
            "import time; t=time.perf_counter(); import verisum; "
            f"c=verisum.Checker(judge_params={{'intra_op_num_threads': {threads!r}}}); c.load(); "
            "c.check('The mayor opened the bridge on Monday.', 'The mayor opened the bridge.'); "
            "print(time.perf_counter()-t)"
        )
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise VerisumError(f"cold-start run failed: {proc.stderr.strip().splitlines()[-1:]}")
        result["cold_start_s"] = round(wall, 3)
        result["cold_start_in_process_s"] = round(float(proc.stdout.strip().splitlines()[-1]), 3)
    t0 = time.perf_counter()
    checker = checker_factory()
    checker.load()
    result["load_s"] = round(time.perf_counter() - t0, 3)
    article, highlights = _bench_article()
    result["article_words"] = len(_rotate(article, 1).split())
    result["highlights"] = len(highlights)
    checker.check(article, highlights)  # warm-up
    lat, cpu = [], []
    for i in range(runs):
        src = _rotate(article, i + 1)  # a new text each time: no cache hits
        t, c = time.perf_counter(), time.process_time()
        checker.check(src, highlights)
        lat.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    result["latency_median_ms"] = round(1000 * float(np.median(lat)), 1)
    result["latency_p90_ms"] = round(1000 * float(np.percentile(lat, 90)), 1)
    # CPU seconds used (all threads): on a busy machine, what the check costs without the wait.
    result["latency_cpu_median_ms"] = round(1000 * float(np.median(cpu)), 1)
    result["latency_runs"] = runs
    if records:
        from .records import Record, RecordError

        items = [Record(str(i), _rotate(article, runs + 1 + i), highlights) for i in range(records)]
        t, c = time.perf_counter(), time.process_time()
        n_sent = errors = 0
        for item in checker.check_many(items, batch_size=batch_size):
            if isinstance(item, RecordError):
                errors += 1
            else:
                n_sent += len(item.sentences)
        dt = time.perf_counter() - t
        dc = time.process_time() - c
        result["batch_cpu_seconds"] = round(dc, 2)
        result["batch_sentences_per_cpu_s"] = round(n_sent / max(dc, 1e-9), 1)
        result["batch_records"] = records
        result["batch_seconds"] = round(dt, 2)
        result["batch_sentences_per_s"] = round(n_sent / dt, 1)
        result["batch_errors"] = errors
    result["peak_rss_mb"] = round(_rss_mb(), 1)
    if long_words:
        # Last, so the high-water mark it leaves is its own: the whole source is read, in blocks.
        parts, n, k = [], 0, 0
        while n < long_words:
            s = _rotate(article, k)
            parts.append(s)
            n += len(s.split())
            k += 1
        long_source = "\n".join(parts)
        t = time.perf_counter()
        res = checker.check(long_source, highlights)
        result["long_source_words"] = len(long_source.split())
        result["long_source_sentences"] = len(res.source.sentences)
        result["long_source_seconds"] = round(time.perf_counter() - t, 2)
        result["peak_rss_after_long_source_mb"] = round(_rss_mb(), 1)
    try:
        result["load_average_1m"] = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    return result


def format_bench(r: Mapping[str, Any]) -> str:
    rows = [
        ("500-word article + 3 highlights, median", f"{r.get('latency_median_ms')} ms"),
        ("500-word article + 3 highlights, p90", f"{r.get('latency_p90_ms')} ms"),
    ]
    if "batch_sentences_per_s" in r:
        rows.append((f"batch of {r['batch_records']} records", f"{r['batch_sentences_per_s']} summary sentences/s"))
    if "latency_cpu_median_ms" in r:
        rows.append(("  CPU time per check, median (all threads)", f"{r['latency_cpu_median_ms']} ms"))
    if "batch_sentences_per_cpu_s" in r:
        rows.append(("  batch, per CPU second", f"{r['batch_sentences_per_cpu_s']} summary sentences"))
    rows.append(("peak RSS", f"{r.get('peak_rss_mb')} MB"))
    if "long_source_words" in r:
        rows.append((f"{r['long_source_words']:,}-word source + 3 highlights, checked in full",
                     f"{r['long_source_seconds']} s, peak RSS then {r['peak_rss_after_long_source_mb']} MB"))
    if "cold_start_s" in r:
        rows.append(("cold start (new process: import + load + one check)", f"{r['cold_start_s']} s"))
    rows.append(("model load in this process", f"{r.get('load_s')} s"))
    width = max(len(a) for a, _ in rows)
    return "\n".join(f"{a:<{width}}  {b}" for a, b in rows) + (
        f"\n(cpu_count={r.get('cpu_count')}, 1-minute load average {r.get('load_average_1m')})"
    )
