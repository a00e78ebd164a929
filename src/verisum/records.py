"""Batch records: the one model of a batch input (:class:`Record`, :class:`RecordError`) and
the one way JSONL lines and JSON objects become records.

The key rule, everywhere a record is read (``check --jsonl``, ``fix --jsonl``, ``highlights
--jsonl``, ``batch``, the HTTP API): ``id`` (a string or a number; optional), the source text
under the first of :data:`SOURCE_KEYS` present, and ``summary`` (a string, or a list of bullet
strings). ``doc`` comes first because news datasets use ``source`` for the outlet (CNN/DM's
records carry ``"source": "cnn"`` beside ``"article"``).

Reading never stops at a bad line: :func:`read_records` yields exactly one item per input line,
a :class:`Record` or a :class:`RecordError` saying what is wrong with that line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator, Sequence

from .errors import BadRecord, EmptyInput, InputError, InputTooLarge, VerisumError
from .io import MAX_BULLETS, MAX_INPUT_BYTES, check_summary_size, decode_text, size_hint

__all__ = [
    "Record",
    "RecordError",
    "SOURCE_KEYS",
    "parse_record",
    "record_from_obj",
    "read_records",
    "parse_line",
    "iter_lines",
    "iter_jsonl",
    "loads_json",
    "peek_id",
]

#: Field names accepted for a record's source text, in order of preference.
SOURCE_KEYS = ("doc", "article", "source")


@dataclass(frozen=True, slots=True, init=False)
class Record:
    """One input of a batch: its source text, its summary (a string, or a list of bullets; empty
    for an article alone), and ``line``, its 1-based line in the input file, if any.

    ``doc=`` is accepted in place of ``source=``, and ``.doc`` reads it: the older name."""

    id: str | None
    source: str
    summary: str | Sequence[str]
    line: int | None

    def __init__(self, id: str | None, source: str | None = None, summary: str | Sequence[str] = (),
                 line: int | None = None, *, doc: str | None = None) -> None:
        if (source is None) == (doc is None):
            raise TypeError("Record takes the source text once: source= (or doc=, its older name)")
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "source", source if source is not None else doc)
        object.__setattr__(self, "summary", summary)
        object.__setattr__(self, "line", line)

    @property
    def doc(self) -> str:
        """The source text, by its older name."""
        return self.source


@dataclass(frozen=True, slots=True)
class RecordError:
    """A batch input that could not be checked; the batch goes on."""

    id: str | None
    line: int | None
    error: VerisumError

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "line": self.line, "error": str(self.error), "code": self.error.code}


def parse_record(
    line_text: str, line_no: int | None = None, *, max_bullets: int = MAX_BULLETS, require_summary: bool = True
) -> Record:
    """One JSONL line -> Record; raises BadRecord (or InputTooLarge) saying what is wrong.

    ``require_summary=False`` reads articles alone (``verisum highlights --jsonl``): a record
    without "summary" gets an empty one, and one that has it is still validated."""
    where = f"line {line_no}" if line_no is not None else "record"
    try:
        obj = loads_json(line_text)
    except json.JSONDecodeError as exc:
        raise BadRecord(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
    return record_from_obj(obj, where, line=line_no, max_bullets=max_bullets, require_summary=require_summary)


def record_from_obj(
    obj: Any, where: str = "record", *, line: int | None = None, max_bullets: int = MAX_BULLETS,
    require_summary: bool = True,
) -> Record:
    """A parsed JSON object (or a Parquet row as a dict) -> Record, by the one key rule
    (:data:`SOURCE_KEYS`); ``where`` names the record in messages ("line 7", "row 12")."""
    line_no = line
    if not isinstance(obj, dict):
        raise BadRecord(f"{where}: expected a JSON object, got {type(obj).__name__}")
    rid = obj.get("id")
    if rid is not None and not isinstance(rid, (str, int)):
        raise BadRecord(f"{where}: \"id\" must be a string or a number")
    doc_key = next((k for k in SOURCE_KEYS if k in obj), None)
    if doc_key is None:
        raise BadRecord(f"{where}: missing field \"doc\" (or \"article\" / \"source\")")
    doc = obj[doc_key]
    if not isinstance(doc, str):
        raise BadRecord(f"{where}: \"{doc_key}\" must be a string, not {_json_type(doc)}")
    if not doc.strip():
        raise EmptyInput(f"{where}: \"{doc_key}\" is empty")
    if "summary" not in obj:
        if not require_summary:
            return Record(id=None if rid is None else str(rid), source=doc, summary=(), line=line_no)
        raise BadRecord(f"{where}: missing field \"summary\"")
    summary = obj["summary"]
    if isinstance(summary, list):
        if not all(isinstance(b, str) for b in summary):
            raise BadRecord(f"{where}: \"summary\" must be a string or a list of strings")
        if not any(b.strip() for b in summary):
            raise EmptyInput(f"{where}: \"summary\" is empty")
    elif isinstance(summary, str):
        if not summary.strip():
            raise EmptyInput(f"{where}: \"summary\" is empty")
    else:
        raise BadRecord(f"{where}: \"summary\" must be a string or a list of strings, not {_json_type(summary)}")
    check_summary_size(summary, max_bullets, f"{where}: \"summary\"")
    return Record(id=None if rid is None else str(rid), source=doc, summary=summary, line=line_no)


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", bool: "a boolean", int: "a number", float: "a number",
            type(None): "null", str: "a string"}.get(type(value), type(value).__name__)


def read_records(
    lines: IO[bytes] | Iterator[bytes],
    *,
    max_bytes: int = MAX_INPUT_BYTES,
    max_bullets: int = MAX_BULLETS,
    require_summary: bool = True,
) -> Iterator[Record | RecordError]:
    """JSONL records from binary lines: exactly one item per line, in order (:func:`parse_line`)."""
    for line_no, raw in enumerate(lines, start=1):
        yield parse_line(raw, line_no, max_bytes=max_bytes, max_bullets=max_bullets, require_summary=require_summary)


def parse_line(
    raw: bytes,
    line_no: int | None,
    *,
    max_bytes: int = MAX_INPUT_BYTES,
    max_bullets: int = MAX_BULLETS,
    require_summary: bool = True,
) -> Record | RecordError:
    """One raw JSONL line -> a Record, or a RecordError (with its 1-based line number) saying
    what is wrong: blank, too large (``max_bytes``), not UTF-8, not JSON, a missing or mistyped
    field. A UTF-8 byte-order mark is allowed on line 1. ``require_summary`` is passed to
    :func:`parse_record`."""
    try:
        if not raw.strip():
            raise EmptyInput(f"line {line_no} is blank; every line must hold one JSON record")
        if len(raw) > max_bytes:
            raise InputTooLarge(
                f"line {line_no} is larger than the limit of {size_hint(max_bytes)}; raise it with --max-bytes"
            )
        if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        text = decode_text(raw, name=f"line {line_no}")
        return parse_record(text, line_no, max_bullets=max_bullets, require_summary=require_summary)
    except InputError as exc:
        return RecordError(id=peek_id(raw), line=line_no, error=exc)


def loads_json(text: str | bytes) -> Any:
    """``json.loads`` whose every failure is a ``json.JSONDecodeError``: not UTF-8, nested too
    deeply for the parser (``[`` x 3000), or a lone surrogate escape (``"\\ud800"``), which
    no UTF-8 text can hold and which the tokenizers reject."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(
                f"not valid UTF-8 (byte 0x{text[exc.start]:02x} at offset {exc.start})", "", 0) from exc
    try:
        obj = json.loads(text)
    except RecursionError as exc:
        raise json.JSONDecodeError("nested too deeply", text, 0) from exc
    if "\\u" in text and _has_surrogate(obj):
        raise json.JSONDecodeError("a \\u escape is an unpaired surrogate, not a character", text, 0)
    return obj


def _has_surrogate(obj: Any) -> bool:
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            try:
                x.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return False


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, Any]]:
    """``(line number, parsed value)`` for each non-blank line of a UTF-8 JSONL file (BOM
    allowed); a line that is not JSON (or not UTF-8, or nested too deeply) yields its
    ``json.JSONDecodeError`` in place of the value, so each caller words the error its own way
    and reading goes on."""
    try:
        fh = open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with fh:
        for no, raw in enumerate(fh, 1):
            if no == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                yield no, loads_json(raw)
            except json.JSONDecodeError as exc:
                yield no, exc


def iter_lines(stream: IO[bytes], max_bytes: int = MAX_INPUT_BYTES) -> Iterator[bytes]:
    """Lines of a binary stream, each cut at ``max_bytes + 1`` bytes so memory stays bounded.

    A longer line is yielded cut (so ``read_records`` reports it as too large) and the rest of
    it is skipped.
    """
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while True:  # skip the rest of the over-long line
                rest = stream.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
        yield line


def peek_id(raw: bytes) -> str | None:
    """The id of a bad record, when the line is at least JSON with an id."""
    try:
        obj = loads_json(raw.decode("utf-8", errors="replace"))
    except ValueError:
        return None
    rid = obj.get("id") if isinstance(obj, dict) else None
    return None if rid is None or isinstance(rid, (dict, list)) else str(rid)
