"""Labelled records (``../shared/data``'s format) and the project's dev split of them.

Records are::

    {"id", "doc", "summary", "label" (1 faithful / 0 not), optional "spans" (unsupported
     character spans of the summary), "sentence_labels", "dataset", "origin"}

The train / validation split of bench-dev is by document (:func:`split_of`); it is the
project's own tool for fitting, not part of the library's public surface.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal, Sequence


from ..errors import BadRecord, VerisumError
from ..records import SOURCE_KEYS, iter_jsonl

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
    def source(self) -> str:
        """The source text (``doc``), by the name the rest of verisum uses."""
        return self.doc

    @property
    def split(self) -> str:
        return split_of(self.doc)


def _record(obj: Any, line: int, file: str) -> LabelledRecord:
    if not isinstance(obj, dict):
        raise BadRecord(f"{file}:{line}: a record must be a JSON object")
    doc = next((obj[k] for k in SOURCE_KEYS if k in obj), None)
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
