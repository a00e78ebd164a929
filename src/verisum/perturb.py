"""Labelled unfaithful variants of a faithful summary, for testing any checker.

``perturb(source, summary)`` changes one summary sentence at a time with one error of a known
type and says which characters it changed, so the variant is a labelled record in the format
``verisum eval`` reads (``label`` 0, ``spans`` of the summary). The error types follow FRANK's
typology (Pagnoni et al., 2021):

==================  ======  ==========================================================
type                FRANK   what changes
==================  ======  ==========================================================
entity              EntE    a name swapped for another of the same kind from the source
number              EntE    a number, month, weekday or number word changed
negation            PredE   a negation inserted or removed
predicate           PredE   a verb or adjective replaced by its antonym
agent               EntE    two names trade places (who did what to whom), or the speaker
place_time          CircE   a time or place the source never gives is inserted
invented_clause     OutE    a clause the source never states (", highlighting ...")
discourse           LinkE   a discourse link reversed ("because of" -> "despite")
fused               LinkE   a clause that belongs to another source sentence attached here
recombined          EntE    the subject given what another source sentence says of another
                            ("The stork | is located in Haiti"): every word from the source
==================  ======  ==========================================================

Each type is the training generator's own transformation (:mod:`verisum.training.synth`):
one definition of each error, used both to train the judge and to test it. Variants are
deterministic for a given ``seed``.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from .document import Document, join_bullets
from .errors import EmptyInput, InputError
from .training import synth

__all__ = ["ERROR_TYPES", "ErrorType", "Variant", "perturb", "parse_types", "changed_span"]


@dataclass(frozen=True, slots=True)
class _Context:
    """What the transformations may draw on: the source's own names, phrases and clauses."""

    text: str
    sentences: tuple[str, ...]
    caps: frozenset[str]
    by_kind: dict[str, list[str]]  # sorted: a set's order would change with the hash seed
    noun_phrases: tuple[str, ...]
    trails: tuple[tuple[int, str], ...]  # (source sentence index, trailing clause)
    places: tuple[str, ...]  # places the source never names


@dataclass(frozen=True, slots=True)
class ErrorType:
    name: str
    frank: str
    description: str
    make: Callable[[str, _Context, random.Random], "str | None"]


def _entity(s: str, ctx: _Context, rng: random.Random) -> str | None:
    return synth.swap_entity(s, set(ctx.caps), ctx.by_kind, rng)


def _agent(s: str, ctx: _Context, rng: random.Random) -> str | None:
    return synth.swap_agents(s, set(ctx.caps)) or synth.swap_entity(s, set(ctx.caps), ctx.by_kind, rng,
                                                                   attribution=True)


def _place_time(s: str, ctx: _Context, rng: random.Random) -> str | None:
    return synth.insert_circumstance(s, ctx.text, list(ctx.places), rng)


#: Used when the source has no "the X of Y" phrase to build an invented clause around.
_FALLBACK_PHRASES = ("the future of the region", "the cost of living", "the role of the government",
                     "the safety of the public", "the importance of trust")


#: "the future of the region": what an invented clause is about (a lower-case head noun).
_PHRASE_RE = re.compile(r"\b(the (?:[a-z]+ ){0,2}of (?:the |its |their )?[a-z]{4,})\b(?! [a-z]+ing\b)")


def _invented_clause(s: str, ctx: _Context, rng: random.Random) -> str | None:
    phrases = [p for p in ctx.noun_phrases if p.lower() not in s.lower()] or list(_FALLBACK_PHRASES)
    return synth.append_clause(s, synth.invented_tail(phrases, rng))


def _fused(s: str, ctx: _Context, rng: random.Random) -> str | None:
    own = synth.content_set(s)
    # A clause from another sentence, about other things: the facts of two sentences fused.
    options = [t for _, t in ctx.trails if synth.recall(synth.content_set(t), own) < 0.5 and t.lower() not in s.lower()]
    if not options:
        return None
    return synth.append_clause(s, ", " + rng.choice(options))


def _recombined(s: str, ctx: _Context, rng: random.Random) -> str | None:
    out = synth.recombine(s, ctx.sentences, rng)
    return None if out is None or out in ctx.text else out


ERROR_TYPES: dict[str, ErrorType] = {
    t.name: t
    for t in (
        ErrorType("entity", "EntE", "a name swapped for another of the same kind from the source", _entity),
        ErrorType("number", "EntE", "a number, month, weekday or number word changed",
                  lambda s, ctx, rng: synth.c_number(s, rng)),
        ErrorType("negation", "PredE", "a negation inserted or removed", lambda s, ctx, rng: synth.c_negation(s, rng)),
        ErrorType("predicate", "PredE", "a verb or adjective replaced by its antonym",
                  lambda s, ctx, rng: synth.c_antonym(s, rng)),
        ErrorType("agent", "EntE", "two names trade places, or the speaker is swapped", _agent),
        ErrorType("place_time", "CircE", "a time or place the source never gives, inserted", _place_time),
        ErrorType("invented_clause", "OutE", "a clause the source never states, added", _invented_clause),
        ErrorType("discourse", "LinkE", "a discourse link reversed", lambda s, ctx, rng: synth.c_discourse(s, rng)),
        ErrorType("fused", "LinkE", "a clause of another source sentence attached to this one", _fused),
        ErrorType("recombined", "EntE", "the subject given the predicate of another source sentence", _recombined),
    )
}


@dataclass(frozen=True, slots=True)
class Variant:
    """One unfaithful variant: ``summary`` is the original with sentence ``sentence`` changed
    to ``after``; ``start``/``end`` are the changed characters in ``summary``."""

    id: str | None
    error_type: str
    frank: str
    source: str
    summary: str
    original: str
    sentence: int
    before: str
    after: str
    start: int
    end: int

    def to_record(self) -> dict[str, Any]:
        """The variant as a labelled record that ``verisum eval`` reads."""
        return {
            "id": self.id,
            "doc": self.source,
            "summary": self.summary,
            "label": 0,
            "error_type": self.error_type,
            "frank": self.frank,
            "spans": [{"start": self.start, "end": self.end, "text": self.summary[self.start:self.end]}],
            "original_summary": self.original,
            "sentence_index": self.sentence,
            "before": self.before,
            "after": self.after,
        }


def changed_span(before: str, after: str) -> tuple[int, int]:
    """The characters of ``after`` that differ from ``before`` (common prefix and suffix left
    out), widened to whole words; a pure deletion marks the word before the gap."""
    p = 0
    while p < min(len(before), len(after)) and before[p] == after[p]:
        p += 1
    q = 0
    while q < min(len(before), len(after)) - p and before[-1 - q] == after[-1 - q]:
        q += 1
    start, end = p, len(after) - q
    # Widen only a change that begins or ends inside a word ("12" -> "9" in "120").
    while 0 < start < len(after) and after[start].isalnum() and after[start - 1].isalnum():
        start -= 1
    while 0 < end < len(after) and after[end - 1].isalnum() and after[end].isalnum():
        end += 1
    if start >= end:  # deletion: mark the word before the gap
        m = list(re.finditer(r"\w+", after[:start]))
        if m:
            start, end = m[-1].start(), m[-1].end()
    while start < end and not after[start].isalnum():  # ", highlighting ..." is marked from its word
        start += 1
    while end > start and not (after[end - 1].isalnum() or after[end - 1] in "'’"):
        end -= 1
    return start, end


def _context(source: str) -> _Context:
    sentences = tuple(s.text for s in Document(source).sentences)
    caps: set[str] = set()
    for s in sentences:
        for m in synth.ENT_RE.finditer(s):
            if m.start() > 0:
                caps.add(m.group(0).rstrip("."))
    by_kind: dict[str, set[str]] = {}
    for s in sentences:
        for _, _, t, k in synth.entities(s, caps):
            by_kind.setdefault(k, set()).add(t)
    phrases = tuple(dict.fromkeys(p for s in sentences for p in _PHRASE_RE.findall(s)))
    trails = tuple((i, m.group(1)) for i, s in enumerate(sentences) for m in [synth.TRAIL_RE.search(s)] if m)
    places = tuple(sorted(p for p in synth.PLACES if p not in source))
    return _Context(source, sentences, frozenset(caps), {k: sorted(v) for k, v in by_kind.items()},
                    phrases, trails, places)


def _rng(*parts: Any) -> random.Random:
    return random.Random(int(hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()[:16], 16))


def parse_types(value: str | Iterable[str]) -> list[str]:
    """Error type names from a comma-separated list (or a list of names), checked against
    :data:`ERROR_TYPES`; :class:`~verisum.errors.InputError` for an unknown name or none."""
    names = [t.strip() for t in (value.split(",") if isinstance(value, str) else value) if t.strip()]
    unknown = [n for n in names if n not in ERROR_TYPES]
    if unknown or not names:
        raise InputError("error types are one or more of " + ", ".join(ERROR_TYPES)
                         + (f"; not {unknown[0]!r}" if unknown else ""))
    return names


def perturb(
    source: str,
    summary: str | Sequence[str],
    *,
    types: Iterable[str] | None = None,
    per_type: int = 1,
    seed: int = 0,
    id: str | None = None,
) -> list[Variant]:
    """Up to ``per_type`` unfaithful variants of ``summary`` for each error type (all types by
    default), each changing one sentence; a type that finds nothing to change in this summary
    (no number, no name of a known kind) gives no variant. Deterministic for a given ``seed``."""
    names = list(ERROR_TYPES) if types is None else parse_types(types)
    if per_type < 1:
        raise InputError("per_type must be at least 1")
    if not source.strip():
        raise EmptyInput("the source is empty")
    if not isinstance(summary, str):
        summary = join_bullets(summary)  # as the Checker joins them, so the offsets agree
    doc = Document(summary)
    sentences = [s for s in doc.sentences if re.search(r"\w", s.text)]
    if not sentences:
        raise EmptyInput("the summary has no sentences to change")
    ctx = _context(source)
    out: list[Variant] = []
    for name in names:
        kind = ERROR_TYPES[name]
        order = list(range(len(sentences)))
        _rng(seed, id, name, "order").shuffle(order)
        made: set[str] = set()
        for attempt in range(3):
            for k in order:
                if len(made) >= per_type:
                    break
                span = sentences[k]
                before = span.text
                after = kind.make(before, ctx, _rng(seed, id, name, k, attempt))
                if after is None:
                    continue
                if not before.rstrip().endswith((".", "!", "?")) and after.endswith(".") and not before.endswith("."):
                    after = after[:-1]  # a bullet without a stop stays without one
                if after == before or after in made or _same_words(before, after):
                    continue
                made.add(after)
                text = doc.text[: span.start] + after + doc.text[span.end :]
                a, b = changed_span(before, after)
                out.append(Variant(
                    id=f"{id}:{name}:{len(made)}" if id is not None else f"{name}:{len(made)}",
                    error_type=name, frank=kind.frank, source=source, summary=text, original=summary,
                    sentence=k, before=before, after=after, start=span.start + a, end=span.start + b,
                ))
    return out


def _same_words(a: str, b: str) -> bool:
    return re.findall(r"\w+", a.lower()) == re.findall(r"\w+", b.lower())
