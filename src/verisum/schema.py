"""The versioned JSON schema of everything verisum outputs ("schema_version": 1).

These pydantic models are the one shape shared by ``verisum check --format json``, the JSONL
batch output, ``verisum highlights --format json`` and the HTTP API; field names are the same
everywhere. They are built from the core dataclasses with ``from_result``.

Offsets: every span is ``{"start", "end", "text"}`` where ``start``/``end`` are Python ``str``
indices (Unicode code points, not bytes and not UTF-16 units) into the text given once at the
top of the result (``source`` or ``summary``), and ``text == that_text[start:end]``. When a
file starts with a UTF-8 byte-order mark, the mark is removed before offsets are counted;
CRLF line ends are kept, so offsets match the file as the user holds it.

The JSON Schema files in ``verisum/schema/`` are generated from these models::

    python -m verisum.schema            # rewrites src/verisum/schema/*.schema.json
    python -m verisum.schema --check    # exits 1 when the files are out of date
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any, Final, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field

from .errors import VerisumError
from .resources import SCHEMA_DIR  # where the generated JSON Schema files live (package data)
from .verdicts import CheckResult, ClaimVerdict, Label, SentenceVerdict

__all__ = [
    "SCHEMA_VERSION",
    "SpanModel",
    "EvidenceModel",
    "ClaimModel",
    "SentenceModel",
    "CheckResultModel",
    "DroppedModel",
    "HighlightsResultModel",
    "EditModel",
    "FixResultModel",
    "ErrorModel",
    "ReportModel",
    "json_schemas",
    "write_json_schemas",
    "SCHEMA_DIR",
]

SCHEMA_VERSION: Final = 1

LabelName = Literal["supported", "contradicted", "unsupported"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_serialization_defaults_required=True)


class SpanModel(_Model):
    """A slice of a text given once in the result: ``text == whole_text[start:end]``."""

    start: int = Field(ge=0, description="Code-point offset of the first character (inclusive).")
    end: int = Field(ge=0, description="Code-point offset after the last character (exclusive).")
    text: str = Field(description="The sliced text, for convenience; always equal to the slice.")

    @classmethod
    def from_span(cls, span: Any) -> "SpanModel":
        return cls(start=span.start, end=span.end, text=span.text)


class EvidenceModel(SpanModel):
    """A source sentence quoted as evidence; offsets point into ``source``."""

    score: float = Field(description="Retrieval similarity to the claim; higher is closer.")


class ClaimModel(SpanModel):
    """One claim of a summary sentence; offsets point into ``summary``."""

    hypothesis: str = Field(description="The claim as a stand-alone statement, as the judge read it.")
    label: LabelName
    score: float = Field(ge=0.0, le=1.0, description="Calibrated probability that the source supports the claim.")
    probs: dict[str, float] = Field(
        description="Probabilities of supported / contradicted / unsupported, consistent with ``label``: "
        "supported is ``score``, and the rest is split as the judge split it on the premise behind the "
        "verdict (contradicted gets the larger share exactly when the label is contradicted); empty when "
        "the judge was not asked (the evidence features alone support the claim, see ``rationale``)."
    )
    faults: list[SpanModel] = Field(description="Words at fault, as spans of ``summary``.")
    evidence: list[EvidenceModel] = Field(description="Source sentences the claim was judged against: the premise behind "
                                         "the verdict first, then the rest, best first.")
    truncated: bool = Field(description="The evidence had to be cut to fit the judge's input.")
    rationale: str | None = Field(default=None, description="The judge's explanation, when it gives one.")

    @classmethod
    def from_verdict(cls, cv: ClaimVerdict) -> "ClaimModel":
        return cls(
            start=cv.claim.span.start,
            end=cv.claim.span.end,
            text=cv.claim.span.text,
            hypothesis=cv.claim.hypothesis,
            label=Label(cv.label).value,
            score=_unit(cv.score),
            probs={k: float(v) for k, v in cv.probs.items()},
            faults=[SpanModel.from_span(f) for f in cv.faults],
            evidence=[EvidenceModel(start=e.span.start, end=e.span.end, text=e.span.text, score=float(e.score))
                      for e in cv.evidence],
            truncated=bool(cv.truncated),
            rationale=cv.rationale,
        )


class SentenceModel(SpanModel):
    """A summary sentence: as good as its weakest claim; offsets point into ``summary``."""

    label: LabelName
    score: float = Field(ge=0.0, le=1.0, description="The lowest claim score of the sentence.")
    claims: list[ClaimModel]

    @classmethod
    def from_verdict(cls, sv: SentenceVerdict) -> "SentenceModel":
        return cls(
            start=sv.sentence.start,
            end=sv.sentence.end,
            text=sv.sentence.text,
            label=Label(sv.label).value,
            score=_unit(sv.score),
            claims=[ClaimModel.from_verdict(cv) for cv in sv.claims],
        )


class CheckResultModel(_Model):
    """The result of checking one summary against its source."""

    schema_version: Literal[1] = SCHEMA_VERSION
    id: str | None = Field(default=None, description="The record id, for batch input.")
    label: LabelName = Field(description="The summary's label: its worst sentence's.")
    score: float = Field(ge=0.0, le=1.0, description="The summary's score: the mean of its sentence scores (its label is its worst sentence's).")
    threshold: float = Field(description="A claim is supported when its score is at or above this.")
    source: str = Field(description="The source text exactly as read (BOM removed); source offsets index it.")
    summary: str = Field(description="The summary text exactly as read; summary offsets index it.")
    sentences: list[SentenceModel]
    meta: dict[str, Any] = Field(default_factory=dict, description=(
        "verisum version, judge settings, timing; \"long_sentences_cut\" when sentences were cut, "
        "\"source_kind\": \"transcript\" when the source reads as a chat or transcript (the judge reads "
        "summaries of those much worse)."))

    @classmethod
    def from_result(cls, result: CheckResult) -> "CheckResultModel":
        return cls(
            id=result.id,
            label=Label(result.label).value,
            score=_unit(result.score),
            threshold=float(result.threshold),
            source=result.source.text,
            summary=result.summary.text,
            sentences=[SentenceModel.from_verdict(sv) for sv in result.sentences],
            meta=_jsonable(result.meta),
        )


class DroppedModel(_Model):
    """A candidate highlight that was not printed, and why."""

    text: str
    reason: str
    label: LabelName | None = None
    score: float | None = None


class HighlightsResultModel(_Model):
    """Highlights written for one article; every bullet in ``highlights`` passed the checker."""

    schema_version: Literal[1] = SCHEMA_VERSION
    id: str | None = None
    highlights: list[str] = Field(description="The bullets, without their '- ' markers.")
    check: CheckResultModel | None = Field(
        description="The check of the kept bullets against the article; null only when no candidate passed."
    )
    dropped: list[DroppedModel] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_result(cls, result: Any) -> "HighlightsResultModel":
        """From a ``verisum.highlights.HighlightsResult``."""
        return cls(
            id=getattr(result, "id", None),
            highlights=list(result.highlights),
            check=None if result.check is None else CheckResultModel.from_result(result.check),
            dropped=[
                DroppedModel(
                    text=d.text,
                    reason=d.reason,
                    label=None if d.label is None else Label(d.label).value,
                    score=None if d.score is None else float(d.score),
                )
                for d in result.dropped
            ],
            meta=_jsonable(getattr(result, "meta", {})),
        )


class EditModel(_Model):
    """One proposed edit of a summary sentence, re-checked before it was kept."""

    sentence: SpanModel = Field(description="The sentence as given; offsets point into ``summary`` (the original).")
    kind: Literal["drop_claim", "substitute", "rewrite", "delete_sentence"] = Field(
        description="drop_claim: an unsupported clause removed; substitute: words at fault replaced by the "
        "evidence's; rewrite: rewritten by a writer; delete_sentence: no small edit was supported."
    )
    before: str
    after: str = Field(description="The edited sentence; empty when the sentence is proposed for deletion.")
    reason: str
    evidence: list[EvidenceModel] = Field(description="Source sentences behind the edit; offsets point into ``source``.")
    score_before: float = Field(ge=0.0, le=1.0)
    score_after: float | None = Field(ge=0.0, le=1.0, description="The edited sentence's score; null for a deletion.")
    kept: float = Field(ge=0.0, le=1.0, description="Share of the original sentence's words kept (ROUGE-1 recall).")
    new: float = Field(ge=0.0, le=1.0, description="Share of the edited sentence's words that are new (1 - ROUGE-1 precision).")


class FixResultModel(_Model):
    """A summary, the edits proposed for its unsupported sentences, and the corrected summary re-checked."""

    schema_version: Literal[1] = SCHEMA_VERSION
    id: str | None = None
    ok: bool = Field(description="The corrected summary is supported (or nothing needed fixing).")
    source: str = Field(description="The source text; evidence offsets index it.")
    summary: str = Field(description="The summary as given; sentence offsets of the edits index it.")
    fixed: str = Field(description="The corrected summary, whole: every edit applied, deletions removed.")
    edits: list[EditModel]
    check: CheckResultModel = Field(description="The check of the summary as given.")
    recheck: CheckResultModel | None = Field(
        description="The check of the corrected summary; null when every sentence was proposed for deletion."
    )

    @classmethod
    def from_result(cls, result: Any) -> "FixResultModel":
        """From a ``verisum.edits.FixResult``."""
        return cls(
            id=result.id,
            ok=bool(result.ok),
            source=result.check.source.text,
            summary=result.check.summary.text,
            fixed=result.text,
            edits=[
                EditModel(
                    sentence=SpanModel.from_span(e.sentence), kind=e.kind, before=e.before, after=e.after,
                    reason=e.reason,
                    evidence=[EvidenceModel(start=v.span.start, end=v.span.end, text=v.span.text, score=float(v.score))
                              for v in e.evidence],
                    score_before=_unit(e.score_before),
                    score_after=None if e.score_after is None else _unit(e.score_after),
                    kept=_unit(e.kept), new=_unit(e.new),
                )
                for e in result.edits
            ],
            check=CheckResultModel.from_result(result.check),
            recheck=None if result.recheck is None else CheckResultModel.from_result(result.recheck),
        )


class ErrorModel(_Model):
    """The one error shape: HTTP error bodies and failed JSONL batch lines."""

    # ``id`` and ``line`` belong to batch lines only: an HTTP error body leaves them out, so the
    # documented schema must not require them.
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_serialization_defaults_required=False)

    ok: Literal[False] = False
    error: str = Field(description="One line that says what is wrong and what to do.")
    errors: list[dict[str, Any]] = Field(default_factory=list, description="Details, e.g. one per invalid field.")
    status: int = Field(description="The HTTP status this error maps to.")
    code: str = Field(description="A stable machine-readable code, e.g. 'bad_record'.")
    id: str | None = Field(default=None, description="Batch input: the record's id, when it could be read.")
    line: int | None = Field(default=None, description="Batch input: the record's 1-based line number.")

    @classmethod
    def from_exception(
        cls, exc: VerisumError, *, id: str | None = None, line: int | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> "ErrorModel":
        return cls(error=str(exc), errors=errors or [], status=exc.http_status, code=exc.code, id=id, line=line)

    @classmethod
    def from_record_error(cls, err: Any) -> "ErrorModel":
        """From a ``verisum.records.RecordError``."""
        return cls.from_exception(err.error, id=err.id, line=err.line)


# -- verisum report --------------------------------------------------------------------------
class Interval(_Model):
    """A share with its 95% Wilson score interval."""

    count: int = Field(ge=0, description="How many of ``of`` count.")
    of: int = Field(ge=0, description="Out of how many.")
    share: float | None = Field(description="count / of; null when ``of`` is 0.")
    low: float | None = Field(description="Lower end of the 95% Wilson interval.")
    high: float | None = Field(description="Upper end of the 95% Wilson interval.")


class ThresholdUseModel(_Model):
    """A decision threshold found in the results, and where."""

    threshold: float | None = Field(description="null for results that do not record one (eval --predictions).")
    results: int
    files: list[str]


class HeadlineModel(_Model):
    """What the report covers."""

    lines: int = Field(description="Result lines read (blank lines not counted).")
    results: int = Field(description="Summaries with a verdict or a score (check results and eval predictions).")
    errors: int = Field(description="Records that could not be checked (error rows).")
    unreadable: int = Field(description="Lines that are neither a result nor an error row.")
    flagged: Interval = Field(description="Summaries flagged: not every sentence supported (eval predictions: label 0).")
    summaries_by_verdict: dict[str, int] = Field(description="Summaries by their label.")
    claims_by_verdict: dict[str, int] = Field(description="Claims by their label (check results only).")
    thresholds: list[ThresholdUseModel] = Field(description="Each threshold in use; more than one means the results "
                                                "were flagged at different thresholds (each summary at its own).")
    mixed_thresholds: bool
    duplicate_ids: int = Field(description="Results whose id appeared earlier in the input (all are counted).")


class GroupStatModel(_Model):
    value: str
    summaries: int = Field(description="Results of this group (errors not included).")
    errors: int
    flagged: Interval
    unsupported_claims: Interval = Field(description="Claims judged unsupported, of all claims of the group.")
    contradicted_claims: Interval = Field(description="Claims judged contradicted, of all claims of the group.")
    mean_score: float | None
    auc: float | None = Field(default=None, description="ROC AUC against the human labels, where the group has both classes.")


class GroupTableModel(_Model):
    field: str = Field(description="The field grouped by (--by).")
    groups: list[GroupStatModel] = Field(description="Sorted by flagged share, highest first.")
    missing: int = Field(description="Results without this field.")


class HistogramBinModel(_Model):
    low: float
    high: float
    verdict: str
    count: int


class RocPointModel(_Model):
    threshold: float
    fpr: float = Field(description="Unfaithful summaries passed (score at or above the threshold), as a share.")
    tpr: float = Field(description="Faithful summaries passed, as a share.")


class ThresholdPointModel(_Model):
    threshold: float
    flag_precision: float | None = Field(description="Share of flagged summaries (score below the threshold) that are unfaithful.")
    flag_recall: float = Field(description="Share of unfaithful summaries flagged.")
    faithful_passed: float = Field(description="Share of faithful summaries passed.")


class ReliabilityBinModel(_Model):
    low: float
    high: float
    n: int
    mean_score: float
    faithful_share: float


class LabelledModel(_Model):
    """Figures against human labels (1 faithful, 0 not), where records carry them."""

    n: int
    faithful: int
    unfaithful: int
    auc: float | None = Field(description="ROC AUC of the summary score for faithful summaries (verisum eval's).")
    balanced_accuracy: float | None = Field(description="Of the verdicts as given (flagged = predicted unfaithful).")
    calibrated_threshold: float | None = Field(description="The threshold `verisum calibrate --threshold-only` "
                                               "would pick: the best balanced accuracy of flagging summaries "
                                               "whose weakest claim scores below it.")
    calibrated_balanced_accuracy: float | None
    expected_calibration_error: float | None = Field(description="Mean |weakest claim score - faithful share| over "
                                                     "the reliability bins, weighted by their size.")
    roc: list[RocPointModel] = Field(description="Of the summary score.")
    thresholds: list[ThresholdPointModel] = Field(description="Flagging summaries whose weakest claim scores below "
                                                  "the threshold.")
    reliability: list[ReliabilityBinModel] = Field(description="The weakest claim's score (the combiner is fitted "
                                                   "so that it reads as P(faithful)) against the share faithful.")


class CountModel(_Model):
    name: str
    count: int


class TypeStatModel(_Model):
    type: str
    summaries: int
    flagged: Interval = Field(description="Summaries of this type flagged (for perturbed variants: the errors caught).")


class WorstModel(_Model):
    id: str | None
    file: str
    line: int
    score: float
    fields: dict[str, Any]
    result: CheckResultModel


class BadLineModel(_Model):
    file: str
    line: int
    reason: str


class ReportModel(_Model):
    """``verisum report --format json``: the figures of the page, as data."""

    schema_version: Literal[1] = SCHEMA_VERSION
    verisum: str = Field(description="The verisum version that wrote the report.")
    inputs: list[str]
    headline: HeadlineModel
    groups: list[GroupTableModel] = Field(description="One table per --by field.")
    histogram: list[HistogramBinModel] = Field(description="Each summary's weakest claim score (what the threshold "
                                               "decides on) in bins of 0.05, per verdict.")
    labelled: LabelledModel | None = Field(description="Against human labels; null when no result has one.")
    fault_words: list[CountModel] = Field(description="The most frequent words at fault (lower-cased).")
    type_field: str | None = Field(description="The field that gives each result's error type, when any result has it.")
    types: list[TypeStatModel]
    error_codes: list[CountModel] = Field(description="Error rows by code.")
    worst: list[WorstModel] = Field(description="The check results with the lowest scores.")
    bad_lines: list[BadLineModel] = Field(description="Lines that are not results (the first 100).")
    fields: list[str] = Field(description="Fields the results or joined records carry, usable with --by.")


def _unit(x: float) -> float:
    """Clamp float noise (1.0000001) into [0, 1]."""
    return min(1.0, max(0.0, float(x)))


def _jsonable(value: Any) -> Any:
    """Meta as plain JSON (tuples, enums, numpy scalars, paths become JSON values)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return str(value)


_FILES: dict[str, type[BaseModel]] = {
    "check-result.schema.json": CheckResultModel,
    "highlights-result.schema.json": HighlightsResultModel,
    "fix-result.schema.json": FixResultModel,
    "error.schema.json": ErrorModel,
    "report.schema.json": ReportModel,
}


def json_schemas() -> dict[str, str]:
    """File name -> JSON Schema text, exactly as kept in ``verisum/schema/``."""
    out = {}
    for name, model in _FILES.items():
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://verisum.invalid/schema/v{SCHEMA_VERSION}/{name}",
            **model.model_json_schema(mode="serialization"),
        }
        out[name] = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    return out


def write_json_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in json_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = [n for n, t in json_schemas().items()
                 if not (SCHEMA_DIR / n).is_file() or (SCHEMA_DIR / n).read_text(encoding="utf-8") != t]
        for n in stale:
            print(f"verisum: schema file {SCHEMA_DIR / n} is out of date; run: python -m verisum.schema", file=sys.stderr)
        return 1 if stale else 0
    for path in write_json_schemas():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
