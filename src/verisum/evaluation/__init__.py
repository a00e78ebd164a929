"""Measuring the checker: labelled records, metrics, ``eval``'s rows, the combiner fit and
``calibrate``, and ``bench``; one module each.

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

from .fitting import (VETO_GRID, analysed_chunks, calibrate, claim_scores, claim_targets, collect, evaluate_cached, fit_combiner,
                      fit_vetoes, summary_scores)
from .labelled import TARGET_SETS, LabelledRecord, read_labelled, split_of
from .metrics import balanced_accuracy, f1, roc_auc, span_counts
from .report import Prediction, Row, format_table, mean_balanced_accuracy, predict, report
from .speed import bench, bench_article, format_bench, rotate_article

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
    "fit_vetoes",
    "claim_scores",
    "VETO_GRID",
    "summary_scores",
    "evaluate_cached",
    "calibrate",
    "bench",
    "format_bench",
    "TARGET_SETS",
    "f1",
    "mean_balanced_accuracy",
    "bench_article",
    "rotate_article",
]
