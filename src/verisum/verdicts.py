"""Labels, verdicts and how claim verdicts aggregate into sentence and summary verdicts.

A claim's ``score`` is the calibrated probability that the source supports it. A claim is
``supported`` when ``score >= threshold``; otherwise it is ``contradicted`` when the judge's most
likely reading of some premise is a contradiction, else ``unsupported`` (the source does not say
it); see :func:`verisum.checker.decide_claim`. A sentence is as good as its weakest claim, and
a summary's *label* is its worst sentence's: one invented clause is enough to make a highlight
unpublishable. A summary's *score* is the mean of its sentences' scores, so summaries of
different lengths rank fairly (the minimum over many sentences punishes long summaries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping, Sequence

from .claims import Claim
from .document import Document, Span
from .evidence import Evidence

__all__ = [
    "Label",
    "ClaimVerdict",
    "SentenceVerdict",
    "CheckResult",
    "aggregate_sentence",
    "aggregate_summary",
    "DEFAULT_THRESHOLD",
]

DEFAULT_THRESHOLD = 0.5


class Label(str, Enum):
    SUPPORTED = "supported"
    CONTRADICTED = "contradicted"
    UNSUPPORTED = "unsupported"

    def __str__(self) -> str:
        return self.value


# Worse labels win when aggregating: contradicted > unsupported > supported.
_SEVERITY = {Label.SUPPORTED: 0, Label.UNSUPPORTED: 1, Label.CONTRADICTED: 2}


@dataclass(frozen=True, slots=True)
class ClaimVerdict:
    """The judgement of one claim against its evidence."""

    claim: Claim
    label: Label
    score: float  # calibrated P(supported), in [0, 1]
    probs: Mapping[str, float]  # supported = score; the rest split as the judge split it
    evidence: tuple[Evidence, ...]
    faults: tuple[Span, ...] = ()  # words at fault, spans of the summary Document
    truncated: bool = False  # the evidence had to be cut to fit the judge's input
    rationale: str | None = None


@dataclass(frozen=True, slots=True)
class SentenceVerdict:
    sentence: Span  # a sentence of the summary Document
    label: Label
    score: float
    claims: tuple[ClaimVerdict, ...]

    @property
    def faults(self) -> tuple[Span, ...]:
        seen: dict[tuple[int, int], Span] = {}
        for cv in self.claims:
            for f in cv.faults:
                seen.setdefault((f.start, f.end), f)
        return tuple(sorted(seen.values(), key=lambda s: (s.start, s.end)))

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """Evidence of every claim, each source sentence once, best score kept, in text order."""
        best: dict[tuple[int, int], Evidence] = {}
        for cv in self.claims:
            for ev in cv.evidence:
                key = (ev.span.start, ev.span.end)
                if key not in best or ev.score > best[key].score:
                    best[key] = ev
        return tuple(sorted(best.values(), key=lambda e: e.span.start))


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Everything ``Checker.check`` found for one (source, summary) pair."""

    source: Document
    summary: Document
    sentences: tuple[SentenceVerdict, ...]
    label: Label
    score: float
    threshold: float
    meta: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None

    @property
    def ok(self) -> bool:
        """True when every summary sentence is supported."""
        return self.label is Label.SUPPORTED

    @property
    def claims(self) -> tuple[ClaimVerdict, ...]:
        return tuple(cv for sv in self.sentences for cv in sv.claims)


def _worst(labels: Sequence[Label]) -> Label:
    return max(labels, key=_SEVERITY.__getitem__) if labels else Label.SUPPORTED


def aggregate_sentence(sentence: Span, claims: Sequence[ClaimVerdict]) -> SentenceVerdict:
    if not claims:
        raise ValueError(f"sentence {sentence!r} has no claims")
    return SentenceVerdict(
        sentence=sentence,
        label=_worst([c.label for c in claims]),
        score=min(c.score for c in claims),
        claims=tuple(claims),
    )


def aggregate_summary(sentences: Sequence[SentenceVerdict]) -> tuple[Label, float]:
    if not sentences:
        raise ValueError("a summary needs at least one sentence")
    return _worst([s.label for s in sentences]), sum(s.score for s in sentences) / len(sentences)
