"""The figures of a report, computed in one streaming pass over the results.

:class:`ReportBuilder` takes :class:`~verisum.report.reading.ResultRow` items one at a time and
keeps counters, one (score, human label) pair per labelled result and the ``worst`` lowest-
scored check results whole; :meth:`ReportBuilder.build` turns them into the documented
:class:`~verisum.schema.ReportModel`. Memory grows with the number of results only by an id and
a few numbers each, so 100,000 results take seconds.

Two scores per result: the summary's ``score`` (the mean of its sentence scores), which ranks
summaries: the ROC curve and its AUC use it, as ``verisum eval`` does
(:func:`verisum.evaluation.metrics.roc_auc`); and its weakest claim's score, which the threshold
decides on (flagged below it): the histogram, flagging by threshold, the reliability diagram and
the threshold ``verisum calibrate --threshold-only`` would pick
(:func:`verisum.calibration.best_threshold`, on the weakest claim as calibrate fits it) use that.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..calibration import best_threshold
from ..evaluation.metrics import balanced_accuracy, roc_auc
from ..schema import (
    BadLineModel,
    CheckResultModel,
    CountModel,
    GroupStatModel,
    GroupTableModel,
    HeadlineModel,
    HistogramBinModel,
    Interval,
    LabelledModel,
    ReliabilityBinModel,
    ReportModel,
    RocPointModel,
    ThresholdPointModel,
    ThresholdUseModel,
    TypeStatModel,
    WorstModel,
)
from ..version import __version__
from .reading import BadLine, ResultRow

__all__ = ["ReportBuilder", "wilson", "HUMAN_LABEL_FIELD", "TYPE_FIELDS", "PSEUDO_FIELDS"]

#: The joined record's field that holds the human label (1 faithful, 0 not), as in verisum eval.
HUMAN_LABEL_FIELD = "label"
#: Fields that name a result's error type, the first present is used (``verisum perturb`` writes ``error_type``).
TYPE_FIELDS = ("error_type", "type", "category")
#: Groups every result has: the results file it came from.
PSEUDO_FIELDS = ("file",)
VERDICTS = ("supported", "unsupported", "contradicted", "flagged")
HIST_BINS = 20
RELIABILITY_BINS = 10
BAD_LINES_LISTED = 100
_CHECK_FIELDS = frozenset(CheckResultModel.model_fields)


def wilson(count: int, of: int, z: float = 1.959964) -> Interval:
    """``count`` of ``of`` with its 95% Wilson score interval (right at 0 and at ``of``)."""
    if of <= 0:
        return Interval(count=count, of=of, share=None, low=None, high=None)
    p = count / of
    denom = 1 + z * z / of
    centre = (p + z * z / (2 * of)) / denom
    half = z * math.sqrt(p * (1 - p) / of + z * z / (4 * of * of)) / denom
    low = 0.0 if count == 0 else max(0.0, centre - half)
    high = 1.0 if count == of else min(1.0, centre + half)
    return Interval(count=count, of=of, share=p, low=low, high=high)


@dataclass
class _Group:
    summaries: int = 0
    errors: int = 0
    flagged: int = 0
    claims: list[int] = field(default_factory=lambda: [0, 0, 0])
    score_sum: float = 0.0
    scores: list[float] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)


def _human_label(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return int(value.strip())
    return None


def _group_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class ReportBuilder:
    """Accumulates results and builds the report.

    Parameters: ``by`` the fields to group by (a results file is ``file``); ``joined``
    ``{key: fields}`` of input records to join by id (:func:`read_joined_records`); ``worst``
    how many lowest-scored check results to keep whole; ``top_words`` how many words at fault to
    list; ``type_field`` the field that gives the error type (default: the first of
    :data:`TYPE_FIELDS` any result has).
    """

    def __init__(self, *, by: Sequence[str] = (), joined: dict[str, dict[str, Any]] | None = None,
                 worst: int = 20, top_words: int = 30, type_field: str | None = None) -> None:
        self.by = tuple(by)
        self.joined = joined or {}
        self.worst_n = worst
        self.top_words = top_words
        self.type_field = type_field
        self.lines = 0
        self.results = 0
        self.errors = 0
        self.flagged = 0
        self.bad: list[BadLine] = []
        self.bad_total = 0
        self.by_verdict: Counter[str] = Counter()
        self.claims: Counter[str] = Counter()
        self.thresholds: dict[float | None, tuple[int, dict[str, None]]] = {}
        self.hist: Counter[tuple[int, str]] = Counter()
        self.words: Counter[str] = Counter()
        self.error_codes: Counter[str] = Counter()
        self.groups: dict[str, dict[str, _Group]] = {f: defaultdict(_Group) for f in self.by}
        self.missing: Counter[str] = Counter()
        self.types: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        self.fields_seen: set[str] = set(PSEUDO_FIELDS)
        self.labelled_scores: list[float] = []
        self.labelled_weakest: list[float] = []
        self.labelled_y: list[int] = []
        self.labelled_pred: list[int] = []
        self.seen_ids: set[str] = set()
        self.duplicates = 0
        self._heap: list[tuple[float, int, dict[str, Any], ResultRow]] = []
        self._seq = 0

    # -- input ---------------------------------------------------------------------------
    def keep(self, row: ResultRow, result: dict[str, Any]) -> None:
        """Offered every check result whole: kept while it is among the ``worst`` lowest scores."""
        if self.worst_n <= 0 or row.score is None:
            return
        self._seq += 1
        item = (-row.score, -self._seq, result, row)
        if len(self._heap) < self.worst_n:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def fields_of(self, row: ResultRow) -> dict[str, Any]:
        """The row's group values: its own, then the joined record's, then ``file``."""
        out = dict(row.fields)
        extra = self.joined.get(row.key)
        if extra:
            for k, v in extra.items():
                out.setdefault(k, v)
        out["file"] = row.file
        return out

    def note_bad(self, bad: BadLine) -> None:
        """A line that could not be read (of the results or of the joined records): counted and listed."""
        self.bad_total += 1
        if len(self.bad) < BAD_LINES_LISTED:
            self.bad.append(bad)

    def add(self, item: ResultRow | BadLine) -> None:
        self.lines += 1
        if isinstance(item, BadLine):
            self.note_bad(item)
            return
        if item.id is not None:
            if item.id in self.seen_ids:
                self.duplicates += 1
            else:
                self.seen_ids.add(item.id)
        fields = self.fields_of(item)
        self.fields_seen.update(fields)
        if item.kind == "error":
            self.errors += 1
            self.error_codes[item.code or "error"] += 1
            for f in self.by:
                if f in fields:
                    self.groups[f][_group_value(fields[f])].errors += 1
            return
        assert item.score is not None and item.verdict is not None
        weakest = item.weakest if item.weakest is not None else item.score
        self.results += 1
        flagged = bool(item.flagged)
        self.flagged += flagged
        self.by_verdict[item.verdict] += 1
        for name, n in zip(("supported", "unsupported", "contradicted"), item.claims):
            if n:
                self.claims[name] += n
        n_files = self.thresholds.get(item.threshold, (0, {}))
        n_files[1][item.file] = None
        self.thresholds[item.threshold] = (n_files[0] + 1, n_files[1])
        self.hist[(min(HIST_BINS - 1, int(weakest * HIST_BINS)), item.verdict)] += 1
        self.words.update(item.faults)
        label = _human_label(fields.get(HUMAN_LABEL_FIELD))
        if label is not None:
            self.labelled_scores.append(item.score)
            self.labelled_weakest.append(weakest)
            self.labelled_y.append(label)
            self.labelled_pred.append(0 if flagged else 1)
        for f in self.by:
            if f not in fields:
                self.missing[f] += 1
                continue
            g = self.groups[f][_group_value(fields[f])]
            g.summaries += 1
            g.flagged += flagged
            for i, n in enumerate(item.claims):
                g.claims[i] += n
            g.score_sum += item.score
            if label is not None:
                g.scores.append(item.score)
                g.labels.append(label)
        type_field = self.type_field or next((t for t in TYPE_FIELDS if t in fields), None)
        if type_field is not None and fields.get(type_field) is not None:
            self.type_field = type_field
            t = self.types[type_field][_group_value(fields[type_field])]
            t[0] += 1
            t[1] += flagged

    # -- output --------------------------------------------------------------------------
    def build(self, inputs: Sequence[str]) -> ReportModel:
        thresholds = [ThresholdUseModel(threshold=t, results=n, files=list(files))
                      for t, (n, files) in sorted(self.thresholds.items(), key=lambda kv: (kv[0] is None, kv[0] or 0.0))]
        known = {t.threshold for t in thresholds if t.threshold is not None}
        headline = HeadlineModel(
            lines=self.lines, results=self.results, errors=self.errors, unreadable=self.bad_total,
            flagged=wilson(self.flagged, self.results),
            summaries_by_verdict={v: self.by_verdict[v] for v in VERDICTS if self.by_verdict[v]},
            claims_by_verdict={v: self.claims[v] for v in ("supported", "unsupported", "contradicted")},
            thresholds=thresholds, mixed_thresholds=len(known) > 1, duplicate_ids=self.duplicates,
        )
        return ReportModel(
            verisum=__version__, inputs=list(inputs), headline=headline,
            groups=[self._group_table(f) for f in self.by],
            histogram=[HistogramBinModel(low=b / HIST_BINS, high=(b + 1) / HIST_BINS, verdict=v, count=n)
                       for (b, v), n in sorted(self.hist.items(), key=lambda kv: (kv[0][0], VERDICTS.index(kv[0][1])))],
            labelled=self._labelled(),
            fault_words=[CountModel(name=w, count=n) for w, n in self.words.most_common(self.top_words)],
            type_field=self.type_field if self.types else None,
            types=self._types(),
            error_codes=[CountModel(name=c, count=n) for c, n in self.error_codes.most_common()],
            worst=self._worst(),
            bad_lines=[BadLineModel(file=b.file, line=b.line, reason=b.reason) for b in self.bad],
            fields=sorted(self.fields_seen),
        )

    def _group_table(self, name: str) -> GroupTableModel:
        stats = []
        for value, g in self.groups[name].items():
            n_claims = sum(g.claims)
            stats.append(GroupStatModel(
                value=value, summaries=g.summaries, errors=g.errors, flagged=wilson(g.flagged, g.summaries),
                unsupported_claims=wilson(g.claims[1], n_claims), contradicted_claims=wilson(g.claims[2], n_claims),
                mean_score=g.score_sum / g.summaries if g.summaries else None,
                auc=roc_auc(g.scores, g.labels) if g.labels else None,
            ))
        stats.sort(key=lambda s: (-(s.flagged.share if s.flagged.share is not None else -1.0), s.value))
        return GroupTableModel(field=name, groups=stats, missing=self.missing[name])

    def _types(self) -> list[TypeStatModel]:
        if not self.type_field or self.type_field not in self.types:
            return []
        rows = [TypeStatModel(type=t, summaries=n, flagged=wilson(f, n)) for t, (n, f) in self.types[self.type_field].items()]
        return sorted(rows, key=lambda r: (-(r.flagged.share or 0.0), r.type))

    def _labelled(self) -> LabelledModel | None:
        if not self.labelled_y:
            return None
        s = np.asarray(self.labelled_scores, dtype=float)
        w = np.asarray(self.labelled_weakest, dtype=float)
        y = np.asarray(self.labelled_y, dtype=int)
        both = bool((y == 1).any() and (y == 0).any())
        thr = bacc = None
        if both:
            thr, bacc = best_threshold(w, self.labelled_y)
        return LabelledModel(
            n=len(y), faithful=int((y == 1).sum()), unfaithful=int((y == 0).sum()),
            auc=roc_auc(self.labelled_scores, self.labelled_y),
            balanced_accuracy=balanced_accuracy(self.labelled_pred, self.labelled_y),
            calibrated_threshold=thr, calibrated_balanced_accuracy=bacc,
            expected_calibration_error=_ece(w, y),
            roc=_roc(s, y) if both else [], thresholds=_threshold_curve(w, y), reliability=_reliability(w, y),
        )

    def _worst(self) -> list[WorstModel]:
        out = []
        for neg_score, _seq, result, row in sorted(self._heap, key=lambda t: (-t[0], -t[1])):
            known = {k: v for k, v in result.items() if k in _CHECK_FIELDS}
            try:
                model = CheckResultModel.model_validate(known)
            except ValueError:
                continue  # a line that passed as a result but does not hold the schema: counted, not shown
            out.append(WorstModel(id=row.id, file=row.file, line=row.line, score=-neg_score,
                                  fields={k: v for k, v in self.fields_of(row).items() if k != "file"}, result=model))
        return out


def _roc(s: np.ndarray, y: np.ndarray, max_points: int = 400) -> list[RocPointModel]:
    """The ROC curve of the score for faithful summaries: one point per distinct score (thinned
    to ``max_points``), from (0, 0) to (1, 1)."""
    order = np.argsort(-s, kind="mergesort")
    ss, yy = s[order], y[order]
    last = np.r_[np.nonzero(np.diff(ss))[0], len(ss) - 1]  # last index of each distinct score
    tp = np.cumsum(yy == 1)[last]
    fp = np.cumsum(yy == 0)[last]
    P, N = max(int((y == 1).sum()), 1), max(int((y == 0).sum()), 1)
    pts = [(1.0 + 1e-9, 0.0, 0.0)] + [(float(ss[i]), fp[k] / N, tp[k] / P) for k, i in enumerate(last)]
    if len(pts) > max_points:
        keep = np.unique(np.linspace(0, len(pts) - 1, max_points).round().astype(int))
        pts = [pts[i] for i in keep]
    return [RocPointModel(threshold=round(min(t, 1.0), 4), fpr=round(float(f), 5), tpr=round(float(t_), 5))
            for t, f, t_ in pts]


def _threshold_curve(s: np.ndarray, y: np.ndarray, steps: int = 100) -> list[ThresholdPointModel]:
    """Flagging unfaithful summaries (score below t) at t = 0, 0.01, ..., 1."""
    pos, neg = np.sort(s[y == 1]), np.sort(s[y == 0])
    out = []
    for t in np.linspace(0.0, 1.0, steps + 1):
        flagged_bad = int(np.searchsorted(neg, t, side="left"))
        flagged_good = int(np.searchsorted(pos, t, side="left"))
        flagged = flagged_bad + flagged_good
        out.append(ThresholdPointModel(
            threshold=round(float(t), 2),
            flag_precision=flagged_bad / flagged if flagged else None,
            flag_recall=flagged_bad / len(neg) if len(neg) else 0.0,
            faithful_passed=(len(pos) - flagged_good) / len(pos) if len(pos) else 0.0,
        ))
    return out


def _reliability(s: np.ndarray, y: np.ndarray) -> list[ReliabilityBinModel]:
    bins = np.minimum((s * RELIABILITY_BINS).astype(int), RELIABILITY_BINS - 1)
    out = []
    for b in range(RELIABILITY_BINS):
        m = bins == b
        if m.any():
            out.append(ReliabilityBinModel(low=b / RELIABILITY_BINS, high=(b + 1) / RELIABILITY_BINS, n=int(m.sum()),
                                           mean_score=float(s[m].mean()), faithful_share=float(y[m].mean())))
    return out


def _ece(s: np.ndarray, y: np.ndarray) -> float | None:
    bins = _reliability(s, y)
    n = sum(b.n for b in bins)
    return sum(b.n * abs(b.mean_score - b.faithful_share) for b in bins) / n if n else None
