"""``verisum eval``'s per-set rows: predictions of a Checker on labelled records, the rows and
their table."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .labelled import TARGET_SETS, LabelledRecord
from .metrics import balanced_accuracy, f1, roc_auc, span_counts

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
        assert self.score is not None  # a prediction without an error has a score
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
    from ..records import Record, RecordError

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
        y: list[int] = []
        labels: list[int] = []
        scores: list[float] = []
        for i in ok:
            gold, pred = records[i].label, predictions[i]
            # kept by ``ok``: a labelled record; a prediction without an error has both
            assert gold is not None and pred.label is not None and pred.score is not None
            y.append(gold)
            labels.append(pred.label)
            scores.append(pred.score)
        bacc = balanced_accuracy(labels, y) if ok else None
        auc = roc_auc(scores, y) if ok else None
        tp = fp = fn = 0
        has_spans = False
        for i in ok:
            spans = records[i].spans
            if spans is not None:
                has_spans = True
                a, b, c = span_counts(predictions[i].faults, spans)
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
