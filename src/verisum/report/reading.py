"""Reading results for a report: one :class:`ResultRow` per result line, a :class:`BadLine` for
every line that is not one, and the records a report joins by id.

What is read (one JSON object per line, or one Parquet row):

* ``verisum check --jsonl`` and ``verisum batch check`` JSONL parts: a check result
  (``CheckResultModel``) or an error line (``ErrorModel``: ``{"ok": false, "error", "code", ...}``);
* ``verisum batch check`` Parquet parts: the columns ``id, line, status, score, code, error,
  result``, where ``result`` is the JSONL line;
* ``verisum eval --predictions``: ``{"id", "score", "label"}`` (label 1: passed, 0: flagged) or
  ``{"id", "error"}``.

Rows keep what the figures need and nothing more (no source text), so memory stays small with
100,000 results; the full result of a line is handed to ``keep`` (the report keeps the worst).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..records import SOURCE_KEYS, iter_lines, loads_json

__all__ = ["ResultRow", "BadLine", "read_results", "read_joined_records", "result_files", "MAX_LINE_BYTES",
           "GROUP_VALUE_MAX_CHARS"]

#: A result line longer than this is reported as unreadable rather than read into memory.
MAX_LINE_BYTES = 256 * 1024 * 1024
#: A string field longer than this is text, not a group value (an article, a summary).
GROUP_VALUE_MAX_CHARS = 200
_CHECK_KEYS = frozenset({"schema_version", "id", "label", "score", "threshold", "source", "summary", "sentences", "meta"})
_VERDICTS = ("supported", "unsupported", "contradicted")


@dataclass(slots=True)
class ResultRow:
    """One result line, reduced to what a report counts.

    ``kind`` is ``check`` (a check result), ``prediction`` (an ``eval --predictions`` line: a
    score and passed / flagged, no claims) or ``error`` (the record could not be checked).
    ``score`` is the summary's score (the mean of its sentence scores: what ``verisum eval``
    ranks by); ``weakest`` its weakest claim's, the score the threshold decides on (a
    prediction has only its score).
    ``verdict`` is the summary's label for a check, ``supported`` / ``flagged`` for a
    prediction. ``claims`` counts the claims by verdict; ``faults`` are the words at fault
    (lower-cased); ``fields`` the group values the line itself carries beyond the result schema.
    """

    id: str | None
    file: str
    line: int
    kind: str
    score: float | None = None
    weakest: float | None = None
    verdict: str | None = None
    threshold: float | None = None
    claims: tuple[int, int, int] = (0, 0, 0)
    faults: tuple[str, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)
    code: str | None = None
    error: str | None = None

    @property
    def flagged(self) -> bool | None:
        """Whether the summary was flagged (not every sentence supported); None for an error."""
        if self.kind == "error":
            return None
        return self.verdict != "supported"

    @property
    def key(self) -> str:
        """What joins the row to its input record: the id, or FILE:LINE as ``batch`` names id-less records."""
        return self.id if self.id is not None else f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that is not a result (nor an error row), and why."""

    file: str
    line: int
    reason: str


def result_files(inputs: list[str]) -> list[tuple[str, str]]:
    """``(path, format)`` of every results file the inputs name: files, folders, globs (batch's
    rules: a folder gives its ``.jsonl`` and ``.parquet`` parts, hidden ones left out); ``-`` is
    standard input (JSONL)."""
    from ..batch import input_files

    out: list[tuple[str, str]] = []
    for path in inputs:
        if path == "-":
            out.append(("-", "jsonl"))
            continue
        files, fmt = input_files(path)
        out.extend((f, fmt) for f in files)
    return out


def _scalar_fields(obj: dict[str, Any], skip: frozenset[str] | set[str]) -> dict[str, Any]:
    """The group values of a JSON object: short scalar fields not in ``skip``."""
    out: dict[str, Any] = {}
    for k, v in obj.items():
        if k in skip or isinstance(v, (dict, list)) or v is None:
            continue
        if isinstance(v, str) and len(v) > GROUP_VALUE_MAX_CHARS:
            continue
        out[k] = v
    return out


def _check_row(obj: dict[str, Any], file: str, line: int, keep: Callable[[ResultRow, dict[str, Any]], None] | None) -> ResultRow:
    label = obj.get("label")
    score = obj.get("score")
    sentences = obj.get("sentences")
    if label not in _VERDICTS or not isinstance(score, (int, float)) or isinstance(score, bool) \
            or not isinstance(sentences, list):
        raise ValueError("a check result needs \"label\" (supported, unsupported or contradicted), "
                         "a numeric \"score\" and a \"sentences\" list")
    counts = [0, 0, 0]
    faults: list[str] = []
    sentence_scores: list[float] = []
    for sv in sentences:
        if not isinstance(sv, dict):
            raise ValueError("\"sentences\" must hold objects")
        if isinstance(sv.get("score"), (int, float)) and not isinstance(sv.get("score"), bool):
            sentence_scores.append(float(sv["score"]))  # a sentence's score is its weakest claim's
        for cv in sv.get("claims") or ():
            if not isinstance(cv, dict):
                raise ValueError("\"claims\" must hold objects")
            if cv.get("label") in _VERDICTS:
                counts[_VERDICTS.index(cv["label"])] += 1
            for f in cv.get("faults") or ():
                if isinstance(f, dict) and isinstance(f.get("text"), str) and f["text"].strip():
                    faults.append(f["text"].strip().lower())
    threshold = obj.get("threshold")
    rid = obj.get("id")
    row = ResultRow(
        id=None if rid is None else str(rid), file=file, line=line, kind="check", score=float(score),
        weakest=min(sentence_scores, default=float(score)), verdict=label,
        threshold=float(threshold) if isinstance(threshold, (int, float)) and not isinstance(threshold, bool) else None,
        claims=(counts[0], counts[1], counts[2]), faults=tuple(faults),
        fields=_scalar_fields(obj, _CHECK_KEYS),
    )
    if keep is not None:
        keep(row, obj)
    return row


def _row_of(obj: Any, file: str, line: int, keep: Callable[[ResultRow, dict[str, Any]], None] | None) -> ResultRow:
    """A parsed line -> ResultRow; ValueError says why it is not a result."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    rid = obj.get("id")
    if rid is not None and not isinstance(rid, (str, int)):
        raise ValueError("\"id\" must be a string or a number")
    rid = None if rid is None else str(rid)
    if "error" in obj and ("ok" in obj or "code" in obj or set(obj) <= {"id", "error", "line"}):
        code = obj.get("code") if isinstance(obj.get("code"), str) else "error"
        ln = obj.get("line")
        return ResultRow(id=rid, file=file, line=ln if isinstance(ln, int) else line, kind="error", code=code,
                         error=str(obj["error"]))
    if "sentences" in obj:
        return _check_row(obj, file, line, keep)
    if "highlights" in obj:
        raise ValueError("a highlights result, not a check result (report reads check results)")
    if "score" in obj and obj.get("label") in (0, 1) and not isinstance(obj.get("label"), bool):
        score = obj["score"]
        if not isinstance(score, (int, float)) or isinstance(score, bool):
            raise ValueError("\"score\" must be a number")
        return ResultRow(id=rid, file=file, line=line, kind="prediction", score=float(score), weakest=float(score),
                         verdict="supported" if obj["label"] == 1 else "flagged",
                         fields=_scalar_fields(obj, {"id", "score", "label"}))
    raise ValueError("not a verisum result: no \"sentences\" (check), \"score\" and \"label\" (eval --predictions) "
                     "or \"error\"")


def _jsonl_lines(path: str) -> Iterator[tuple[int, bytes]]:
    import sys

    try:
        fh = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        for no, raw in enumerate(iter_lines(fh, MAX_LINE_BYTES), 1):
            if no == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            yield no, raw
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


def _parquet_rows(path: str) -> Iterator[tuple[int, Any]]:
    """``(row number, parsed result)`` of a ``batch check`` Parquet part: the ``result`` column
    (a JSONL line), or the row itself where that is empty."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - the [ray] and [test] extras bring pyarrow
        raise InputError("reading Parquet results needs pyarrow: pip install 'verisum[ray]'") from exc
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own error types for a file that is not Parquet
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
    no = 0
    batches = pf.iter_batches(batch_size=2048)
    while True:
        try:
            batch = next(batches, None)
        except Exception as exc:  # pyarrow's own error types: a damaged row group
            raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
        if batch is None:
            return
        for rec in batch.to_pylist():
            no += 1
            raw = rec.get("result")
            if isinstance(raw, str) and raw:
                try:
                    yield no, loads_json(raw)
                except json.JSONDecodeError as exc:
                    yield no, exc
            elif rec.get("status") == "error":
                yield no, {"id": rec.get("id"), "ok": False, "error": rec.get("error") or "error",
                           "code": rec.get("code") or "error", "line": rec.get("line")}
            else:
                yield no, rec


def read_results(
    inputs: list[str],
    *,
    keep: Callable[[ResultRow, dict[str, Any]], None] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> Iterator[ResultRow | BadLine]:
    """Every line of the results the inputs name, in order: a :class:`ResultRow` or a
    :class:`BadLine`; blank lines are skipped. ``keep(row, result)`` sees each check result
    whole (the report keeps its worst few)."""
    done = 0
    for path, fmt in result_files(inputs):
        items: Iterator[tuple[int, Any]]
        if fmt == "parquet":
            items = _parquet_rows(path)
        else:
            items = ((no, raw) for no, raw in _jsonl_lines(path))
        for no, raw in items:
            done += 1
            if progress is not None and done % 1000 == 0:
                progress(done, None)
            if isinstance(raw, bytes):
                if not raw.strip():
                    continue
                if len(raw) > MAX_LINE_BYTES:
                    yield BadLine(path, no, f"longer than {MAX_LINE_BYTES // (1 << 20)} MiB")
                    continue
                try:
                    raw = loads_json(raw)
                except json.JSONDecodeError as exc:
                    yield BadLine(path, no, f"not valid JSON ({exc.msg})")
                    continue
            if isinstance(raw, json.JSONDecodeError):
                yield BadLine(path, no, f"not valid JSON ({raw.msg})")
                continue
            try:
                yield _row_of(raw, path, no, keep)
            except ValueError as exc:
                yield BadLine(path, no, str(exc))
    if progress is not None:
        progress(done, done)


def read_joined_records(paths: list[str]) -> tuple[dict[str, dict[str, Any]], list[BadLine]]:
    """Input records to join to results by id: ``{key: fields}`` where key is the record's id
    (or FILE:LINE, as ``batch`` names an id-less record) and fields its short scalar values
    (``label``, ``system``, ``model``, ``error_type`` ...), the text and the summary left out.
    JSONL or Parquet, files, folders or globs."""
    from ..records import iter_jsonl

    joined: dict[str, dict[str, Any]] = {}
    bad: list[BadLine] = []
    for path, fmt in result_files(paths):
        rows: Iterator[tuple[int, Any]]
        if fmt == "parquet":
            import pyarrow.parquet as pq

            try:
                table = pq.read_table(path)
            except Exception as exc:  # pyarrow's own error types
                raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
            rows = enumerate(table.to_pylist(), 1)
        else:
            rows = iter_jsonl(path)
        for no, obj in rows:
            if isinstance(obj, json.JSONDecodeError):
                bad.append(BadLine(path, no, f"record: not valid JSON ({obj.msg})"))
                continue
            if not isinstance(obj, dict):
                bad.append(BadLine(path, no, "record: expected a JSON object"))
                continue
            text_key = next((k for k in SOURCE_KEYS if k in obj), None)
            rid = obj.get("id")
            key = str(rid) if isinstance(rid, (str, int)) and not isinstance(rid, bool) \
                else f"{os.path.abspath(path)}:{no}"
            joined[key] = _scalar_fields(obj, {"id", "summary", "summary_sentences", *([text_key] if text_key else [])})
    return joined, bad
