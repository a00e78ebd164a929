"""Metrics, in numpy (no scikit-learn): ROC AUC (rank statistic, ties counted half), balanced
accuracy (the mean of each class's recall), and character-level span precision / recall / F1."""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np


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
