"""``verisum report``: what goes wrong across many results, as one self-contained page or as data.

    from verisum.report import build_report, render_report_html

    report = build_report(["results/"], by=["system"], records=["inputs.jsonl"])
    open("report.html", "w").write(render_report_html(report))

Stages, one module each: :mod:`~verisum.report.reading` (result lines -> rows, records joined
by id), :mod:`~verisum.report.figures` (rows -> the figures, :class:`~verisum.schema.ReportModel`),
:mod:`~verisum.report.charts` (figures -> Vega-Lite specs) and :mod:`~verisum.report.page`
(the HTML page).
"""

from __future__ import annotations

from typing import Callable, Sequence

from ..errors import InputError
from ..schema import ReportModel
from .figures import ReportBuilder
from .page import render_report_html
from .reading import BadLine, ResultRow, read_joined_records, read_results

__all__ = ["build_report", "render_report_html", "ReportBuilder", "ResultRow", "BadLine", "ReportModel"]


def build_report(
    inputs: Sequence[str],
    *,
    by: Sequence[str] = (),
    records: Sequence[str] = (),
    worst: int = 20,
    top_words: int = 30,
    type_field: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> ReportModel:
    """The report of the results that ``inputs`` name (files, folders, globs; ``-`` is stdin).

    ``by``: fields to compare groups by (``file`` is each result's file); ``records``: input
    record files whose short fields (``system``, ``model``, ``label`` ...) join the results by
    id; ``worst``: how many lowest-scored summaries to show whole; ``type_field``: the field that
    names an error type (default: ``error_type``, ``type`` or ``category``, whichever is there).

    Raises :class:`~verisum.errors.InputError` when an input cannot be read or a ``by`` field
    is on no result.
    """
    if worst < 0 or top_words < 0:
        raise InputError("worst and top_words must be 0 or more")
    joined, bad_records = read_joined_records(list(records)) if records else ({}, [])
    builder = ReportBuilder(by=by, joined=joined, worst=worst, top_words=top_words, type_field=type_field)
    for bad in bad_records:
        builder.note_bad(bad)
    for item in read_results(list(inputs), keep=builder.keep, progress=progress):
        builder.add(item)
    report = builder.build(list(inputs))
    unknown = [f for f in by if f not in report.fields]
    if unknown and report.headline.results + report.headline.errors:
        raise InputError(f"no result has the field {unknown[0]!r} to group by; fields here: "
                         f"{', '.join(report.fields)}" + ("" if records else " (join input records with --records)"))
    return report
