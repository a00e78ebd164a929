"""The Writer protocol and ``write_highlights``: the loop that lets only checked bullets out.

A writer proposes candidate bullets, best first; ``write_highlights`` checks them with a
:class:`~verisum.checker.Checker` and keeps a candidate only if every sentence and claim of
it is supported. A rejected candidate is offered back to the writer (``revise``, with the
checker's finding) for at most ``max_rounds`` rounds, then dropped and replaced by the next
candidate. Candidates that say what a kept bullet already says are skipped. For a kept bullet
with shorter forms (subordinate material dropped), the shortest form that also passes is
printed. The final check of exactly the printed bullets is part of the result, so nothing
unchecked is ever printed.

    result = write_highlights(article, n=3)            # the offline extractive writer
    for bullet in result.highlights: print("-", bullet)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Mapping, Protocol, Sequence, runtime_checkable

from ..document import Document
from ..errors import InputError, InternalError, VerisumError
from ..records import Record, RecordError
from ..verdicts import CheckResult, Label, SentenceVerdict
from .repair import dangling_start, redundant
from .result import Dropped, HighlightsResult

if TYPE_CHECKING:
    from ..checker import Checker

__all__ = [
    "write_highlights_many",
    "Candidate",
    "Proposal",
    "Finding",
    "Writer",
    "get_writer",
    "available_writers",
    "write_highlights",
    "bullet_text",
    "bullets_passing",
    "MAX_ROUNDS",
]

#: Rewrites of a rejected bullet before it is dropped (writers that can rewrite: llm).
MAX_ROUNDS = 2

_WRITERS = {
    "extractive": "verisum.highlights.extractive:ExtractiveWriter",
    "llm": "verisum.highlights.llm:LLMWriter",
}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A bullet a writer proposes.

    text: the bullet as it would be printed (one line, no "- " marker).
    score: the writer's preference (higher first); for the record only.
    source: (start, end) of the article sentence it came from, if any.
    shorter: shorter forms, longest first; one is printed only if it passes the checker.
    """

    text: str
    score: float = 0.0
    source: tuple[int, int] | None = None
    shorter: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Proposal:
    """A writer's candidates, best first, and what it left out before checking (and why)."""

    candidates: tuple[Candidate, ...]
    dropped: tuple[Dropped, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Finding:
    """Why the checker rejected a bullet: fed back to a writer that can rewrite."""

    text: str
    label: Label
    score: float
    faults: tuple[str, ...]  # the words at fault
    evidence: tuple[str, ...]  # the closest source sentences


@runtime_checkable
class Writer(Protocol):
    """What ``write_highlights`` needs from a writer."""

    name: str

    def propose(self, article: Document, n: int) -> Proposal:
        """Candidate bullets for ``article``, best first; more than ``n`` when it can."""
        ...

    def revise(self, article: Document, finding: Finding, round: int) -> str | None:
        """A rewrite of a rejected bullet given the checker's finding, or None to give up."""
        ...

    def params(self) -> dict[str, Any]:
        """Settings that reproduce this writer (recorded in the result's meta)."""
        ...


def available_writers() -> list[str]:
    return sorted(_WRITERS)


def get_writer(name: str | Writer, **params: Any) -> Writer:
    """A writer by name ("extractive", "llm") built with ``params``, or the instance given."""
    if not isinstance(name, str):
        if params:
            raise InputError("writer params cannot be given with a writer instance")
        return name
    if name not in _WRITERS:
        raise InputError(f"unknown writer {name!r}; available: {', '.join(available_writers())}")
    import importlib
    import inspect

    module, _, attr = _WRITERS[name].partition(":")
    cls = getattr(importlib.import_module(module), attr)
    unknown = [k for k in params if k not in inspect.signature(cls).parameters]
    if unknown:
        allowed = [k for k in inspect.signature(cls).parameters if k != "self"]
        raise InputError(f"writer {name!r} does not take {', '.join(sorted(unknown))}; it takes: {', '.join(allowed)}")
    return cls(**params)


def bullet_text(text: str) -> str:
    """One line, single-spaced, without a leading bullet marker."""
    text = " ".join(str(text).split())
    while text[:2] in ("- ", "* ", "• "):
        text = text[2:].lstrip()
    return text


@dataclass(slots=True)
class _Verdict:
    ok: bool
    label: Label
    score: float
    sentences: tuple[SentenceVerdict, ...]


def _check_bullets(checker: "Checker", article: Document, bullets: Sequence[str]) -> list[_Verdict]:
    """Check many bullets in ONE checker call; a verdict per bullet (all its sentences)."""
    if not bullets:
        return []
    lines, starts, pos = [], [], 0
    for b in bullets:
        line = f"- {b}"
        starts.append(pos)
        lines.append(line)
        pos += len(line) + 1
    result = checker.check(article, "\n".join(lines))
    per: list[list[SentenceVerdict]] = [[] for _ in bullets]
    import bisect

    for sv in result.sentences:
        per[bisect.bisect_right(starts, sv.sentence.start) - 1].append(sv)
    out = []
    for svs in per:
        if not svs:  # nothing the checker could read as a sentence: never printed
            out.append(_Verdict(False, Label.UNSUPPORTED, 0.0, ()))
            continue
        worst = max(svs, key=lambda s: ({"supported": 0, "unsupported": 1, "contradicted": 2}[s.label.value], -s.score))
        out.append(_Verdict(all(s.label is Label.SUPPORTED for s in svs), worst.label,
                            min(s.score for s in svs), tuple(svs)))
    return out


def bullets_passing(result: "CheckResult", bullets: int) -> list[bool]:
    """For a check of bullets joined as lines: whether each bullet's sentences all pass."""
    import bisect

    starts, pos = [], 0
    for line in result.summary.text.split("\n"):
        starts.append(pos)
        pos += len(line) + 1
    ok = [True] * bullets
    seen = [False] * bullets
    for sv in result.sentences:
        i = bisect.bisect_right(starts, sv.sentence.start) - 1
        if 0 <= i < bullets:
            seen[i] = True
            ok[i] = ok[i] and sv.label is Label.SUPPORTED
    return [o and s for o, s in zip(ok, seen)]


def _finding(text: str, v: _Verdict) -> Finding:
    faults = tuple(dict.fromkeys(f.text for sv in v.sentences for f in sv.faults))
    evidence = tuple(dict.fromkeys(e.span.text for sv in v.sentences for e in sv.evidence))
    return Finding(text=text, label=v.label, score=v.score, faults=faults, evidence=evidence[:3])


def _reason(v: _Verdict, finding: Finding) -> str:
    what = "contradicted by the article" if v.label is Label.CONTRADICTED else "not supported by the article"
    if finding.faults:
        what += " (at fault: " + ", ".join(repr(f) for f in finding.faults[:4]) + ")"
    return f"checker: {what}, score {v.score:.2f}"


def write_highlights(
    article: str | Document,
    n: int = 3,
    writer: str | Writer = "extractive",
    checker: "Checker | None" = None,
    *,
    writer_params: Mapping[str, Any] | None = None,
    max_rounds: int = MAX_ROUNDS,
    window: int = 1,
    order: Literal["article", "rank"] = "article",
    id: str | None = None,
) -> HighlightsResult:
    """Write up to ``n`` bullet highlights of ``article``; every one passed ``checker``.

    writer: "extractive" (offline, default), "llm", or a Writer instance.
    checker: the Checker that vets every bullet (default: a new embedded Checker; pass one
        to reuse it over many articles).
    writer_params: keyword arguments for the writer's constructor.
    max_rounds: rewrites a rejected bullet gets (writers that can rewrite) before it is dropped.
    window: extra candidates checked together with the ones needed, to save checker calls.
    order: "article" prints the bullets in the order their sentences have in the article (a
        name is then introduced before a bullet uses its short form), bullets that came from
        no article sentence last; "rank" in the writer's order of preference.

    Fewer than ``n`` bullets come back when fewer candidates pass; ``check`` is then the
    check of those, or None when none passed (``dropped`` says why).
    """
    started = time.perf_counter()
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise InputError(f"n must be a positive whole number of bullets, not {n!r}")
    if max_rounds < 0:
        raise InputError("max_rounds must be 0 or more")
    if order not in ("article", "rank"):
        raise InputError(f"order must be 'article' or 'rank', not {order!r}")
    doc = article if isinstance(article, Document) else Document(article)
    if not doc.text.strip():
        from ..errors import EmptyInput

        raise EmptyInput("the article is empty")
    if checker is None:
        from ..checker import Checker

        checker = Checker()
    w = get_writer(writer, **dict(writer_params or {}))
    proposal = w.propose(doc, n)
    dropped: list[Dropped] = list(proposal.dropped)
    kept: list[str] = []
    positions: dict[str, float] = {}  # bullet -> start of the article sentence it came from
    queue = [c for c in proposal.candidates]
    checked = 0
    while len(kept) < n and queue:
        # The next candidates that add something new, checked (with their shorter forms) at once.
        batch: list[Candidate] = []
        while queue and len(batch) < (n - len(kept)) + window:
            c = queue.pop(0)
            text = bullet_text(c.text)
            if not text or dangling_start(text) is not None:
                dropped.append(Dropped(text, "does not stand alone"))
                continue
            if any(redundant(text, k) for k in kept) or any(redundant(text, b.text) for b in batch):
                continue
            batch.append(Candidate(text, c.score, c.source, tuple(bullet_text(s) for s in c.shorter)))
        if not batch:
            break
        texts = [c.text for c in batch]
        shorter = [s for c in batch for s in c.shorter if dangling_start(s) is None]
        verdicts = _check_bullets(checker, doc, texts + shorter)
        checked += len(texts) + len(shorter)
        by_text = dict(zip(texts + shorter, verdicts))
        for c in batch:
            if len(kept) >= n:
                break
            if any(redundant(c.text, k) for k in kept):
                continue
            v = by_text[c.text]
            text = c.text
            rounds = 0
            while not v.ok and rounds < max_rounds:
                finding = _finding(text, v)
                rewrite = w.revise(doc, finding, rounds + 1)
                rounds += 1
                if rewrite is None:
                    break
                rewrite = bullet_text(rewrite)
                if not rewrite or dangling_start(rewrite) is not None:
                    dropped.append(Dropped(text, _reason(v, finding), v.label, v.score))
                    text, v = rewrite, _Verdict(False, Label.UNSUPPORTED, 0.0, ())
                    break
                dropped.append(Dropped(text, _reason(v, finding) + f"; rewritten (round {rounds})", v.label, v.score))
                text = rewrite
                v = _check_bullets(checker, doc, [text])[0]
                checked += 1
            if not v.ok:
                if v.sentences:
                    dropped.append(Dropped(text, _reason(v, _finding(text, v)), v.label, v.score))
                elif text:
                    dropped.append(Dropped(text, "does not stand alone"))
                continue
            if any(redundant(text, k) for k in kept):
                continue
            # Prefer the shortest form that still passes the checker.
            for s in reversed(c.shorter):
                sv = by_text.get(s)
                if sv is not None and sv.ok:
                    text = s
                    break
            kept.append(text)
            positions[text] = c.source[0] if c.source is not None else float("inf")
    if order == "article":
        kept.sort(key=lambda k: positions[k])  # stable: unsourced bullets keep their rank order

    # The printed bullets are checked together, as `verisum check` would read them. Some
    # features are summary-level (means over the summary's claims), so a bullet that passed
    # among the candidates can fail beside the kept ones: drop it and check the rest again,
    # until every bullet of the final check passes.
    check = None
    while kept:
        check = checker.check(doc, "\n".join(f"- {k}" for k in kept), id=id)
        oks = bullets_passing(check, len(kept))
        if all(oks):
            break
        for k, ok in zip(kept, oks):
            if not ok:
                dropped.append(Dropped(k, "checker: not supported when checked together with the other bullets",
                                       check.label, check.score))
        kept = [k for k, ok in zip(kept, oks) if ok]
        check = None
    meta = {
        "writer": w.name,
        "writer_params": w.params(),
        "n": n,
        "max_rounds": max_rounds,
        "candidates_checked": checked,
        "seconds": round(time.perf_counter() - started, 4),
        **({"proposal": dict(proposal.meta)} if proposal.meta else {}),
    }
    return HighlightsResult(highlights=tuple(kept), check=check, dropped=tuple(dropped), meta=meta, id=id)


def write_highlights_many(
    records: Iterable[Record | RecordError],
    n: int = 3,
    writer: str | Writer = "extractive",
    checker: "Checker | None" = None,
    *,
    writer_params: Mapping[str, Any] | None = None,
    max_rounds: int = MAX_ROUNDS,
    progress: Callable[[int, int | None], None] | None = None,
) -> Iterator[HighlightsResult | RecordError]:
    """:func:`write_highlights` for each record's source (``record.source``); yields exactly one
    item per input, in input order, as :meth:`Checker.check_many` does.

    The policy for failures is check_many's: a record that cannot be written for (bad input, a
    failed or timed-out backend, a bug) yields a ``RecordError`` with that error, and the batch
    goes on; a ``RecordError`` given as input (a line the reader rejected) is passed through.
    The writer and the checker are built once for the whole batch.
    """
    if checker is None:
        from ..checker import Checker

        checker = Checker()
    w = writer if not isinstance(writer, str) else get_writer(writer, **dict(writer_params or {}))
    total = len(records) if isinstance(records, Sequence) else None
    try:
        for done, rec in enumerate(records, start=1):
            if isinstance(rec, RecordError):
                item: HighlightsResult | RecordError = rec
            else:
                try:
                    item = write_highlights(rec.source, n, w, checker, max_rounds=max_rounds, id=rec.id)
                except VerisumError as exc:
                    item = RecordError(rec.id, rec.line, exc)
                except Exception as exc:  # noqa: BLE001 - a bug costs only its own record
                    item = RecordError(rec.id, rec.line, InternalError.wrap(exc))
            if progress:
                progress(done, total)
            yield item
    finally:
        if isinstance(writer, str):
            close = getattr(w, "close", None)  # not part of the Writer protocol
            if callable(close):
                close()  # a writer built here (an llm client) is closed here
