"""Words at fault inside a claim, as spans of the summary Document.

With a judge at hand (the Checker's default), the words at fault come from the model:
:func:`occlusions` drops each content word of the rejected claim in turn, the judge reads each
shortened claim against the premise behind the verdict, and :func:`blamed_words` keeps the words
whose removal raises P(supported) - P(contradicted) the most ("did **not** approve", "on
**Tuesday**"); words the source never uses are added to them. Discourse fillers
("Additionally", "Interestingly") are never candidates: they state nothing.

Without a judge's help (:func:`locate_faults`), in order of precision:

1. words the source never uses (a name, number, date or content word the writer invented);
2. words a judge quotes (LLM judges), anchored back into the claim by exact, then
   case-insensitive search; a quote that is not in the claim is dropped (a judge cannot mark
   words the summary does not contain);
3. when neither finds anything (every word occurs somewhere in the source, e.g. a swapped
   entity or a wrong link between true facts): the content words of the claim that its best
   evidence does not contain;
4. only when all of that is empty, the whole claim.

Adjacent faulty words are merged into one span (``G7 countries``), so a reader sees phrases.

The Checker makes one call, :func:`locate`, with every rejected claim of a batch (a
:class:`FaultQuery` each: the claim, its verdict, the premises behind it) and the judge; it
returns the words at fault of each (:class:`Located`), and asks the judge about all the
shortened claims of the batch at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from .claims import Claim
from .document import Document, Span
from .evidence import Evidence
from .text import content_words
from .text import is_content as _is_content

if TYPE_CHECKING:
    from .features import SourceIndex

__all__ = ["novel_words", "anchor_quotes", "locate_faults", "occlusions", "blamed_words", "merge_spans",
           "FaultQuery", "Located", "locate", "head_words", "FAULT_RULES", "HEAD_THRESHOLD", "FILLERS", "MIN_GAIN",
           "GAIN_SHARE"]

#: Discourse fillers: never at fault.
FILLERS = frozenset(
    """additionally also moreover furthermore interestingly notably importantly meanwhile however
    indeed overall ultimately reportedly apparently currently recently previously""".split()
)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")
#: Words that are stopwords but carry a claim's polarity, so they are occlusion candidates.
_POLARITY = frozenset("not no never nor without n't".split())
#: A word is blamed when dropping it raises P(supported) - P(contradicted) by at least MIN_GAIN
#: and by at least GAIN_SHARE of the largest rise in its claim.
MIN_GAIN = 0.1
GAIN_SHARE = 0.5
#: A word is at fault by the judge's fault head when any of its word pieces reaches this P(at fault).
HEAD_THRESHOLD = 0.5
#: How the words at fault are chosen: "novel first" (the words the source never uses, and for a
#: contradicted claim or one without such words the judge's blame by occlusion), "head" (the
#: fault head's words, where the judge has a fault head; else as "novel first") or "union" (both).
FAULT_RULES = ("novel first", "head", "union")


def _index_of(source: Document, vocab: "SourceIndex | Iterable[str] | None") -> "SourceIndex":
    """The source's SourceIndex: the one given, one built from a plain set of words, or built."""
    from .features import SourceIndex

    if isinstance(vocab, SourceIndex):
        return vocab
    if vocab is None:
        return SourceIndex.build(source)
    return SourceIndex(vocab=set(vocab))


def novel_words(claim: Claim, source: Document, vocab: "SourceIndex | Iterable[str] | None" = None, *,
                keep_fillers: bool = False) -> tuple[Span, ...]:
    """Content words of the claim's span that the source never uses, by the same rule as the
    features' novelty (:meth:`verisum.features.SourceIndex.knows`); discourse fillers are left
    out unless ``keep_fillers`` (the evaluation's plain novel-word baseline keeps them)."""
    index = _index_of(source, vocab)
    out = []
    for w in claim.span.words:
        low = w.text.lower().replace("’", "'")
        if low.endswith("'s"):
            low = low[:-2]
        if _is_content(low) and (keep_fillers or low not in FILLERS) and not index.knows(w.text):
            out.append(w)
    return tuple(out)


def anchor_quotes(claim: Claim, quotes: Iterable[str]) -> tuple[Span, ...]:
    """Each quote as a span of the claim, or nothing when the claim does not contain it."""
    text, base = claim.span.text, claim.span.start
    out = []
    for q in quotes:
        q = q.strip()
        if not q:
            continue
        i = text.find(q)
        if i < 0:
            i = text.lower().find(q.lower())
        if i >= 0:
            out.append(claim.span.doc.span(base + i, base + i + len(q)))
    return tuple(out)


def _absent_from_evidence(claim: Claim, evidence: Sequence[Evidence]) -> tuple[Span, ...]:
    seen: set[str] = set()
    for e in evidence:
        for w in content_words(e.span.text):
            seen.add(w)
    if not seen:
        return ()
    return tuple(
        w for w in claim.span.words
        if _is_content(w.text.lower()) and content_words(w.text) and content_words(w.text)[0] not in seen
    )


def merge_spans(spans: Sequence[Span]) -> tuple[Span, ...]:
    """Sorted, de-duplicated spans; neighbours separated only by spaces/hyphens are joined."""
    if not spans:
        return ()
    ordered = sorted({(s.start, s.end): s for s in spans}.values(), key=lambda s: (s.start, -s.end))
    doc = ordered[0].doc
    out: list[list[int]] = []
    for s in ordered:
        if out and s.start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], s.end)
        elif out and doc.text[out[-1][1] : s.start].strip(" -") == "" and s.start - out[-1][1] <= 2:
            out[-1][1] = s.end
        else:
            out.append([s.start, s.end])
    return tuple(doc.span(a, b) for a, b in out)


def _occludable(word: Span) -> bool:
    low = word.text.lower().replace("’", "'")
    if low in FILLERS:
        return False
    return _is_content(low) or low in _POLARITY or low.endswith("n't")


def occlusions(claim: Claim) -> list[tuple[Span, str]]:
    """Each candidate word of the claim's span with the claim's hypothesis (what the judge
    reads) without that word."""
    span = claim.span
    hyp = claim.hypothesis
    if claim.context is None or span.start < claim.context.start:
        base = 0  # the hypothesis starts with the span
    else:
        base = len(hyp) - len(span.text)  # "main, clause": the span ends the hypothesis
    out = []
    for w in span.words:
        if not _occludable(w):
            continue
        i = base + (w.start - span.start)
        if hyp[i : i + len(w.text)] != w.text:  # defensive: never misplace a cut
            continue
        shortened = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join((hyp[:i] + hyp[i + len(w.text) :]).split()))
        out.append((w, shortened))
    return out


def blamed_words(words: Sequence[Span], gains: Sequence[float]) -> tuple[Span, ...]:
    """The words whose removal helps the claim most (see :data:`MIN_GAIN`, :data:`GAIN_SHARE`)."""
    if not gains:
        return ()
    top = max(gains)
    cut = max(MIN_GAIN, GAIN_SHARE * top)
    return tuple(w for w, g in zip(words, gains) if g >= cut)


def locate_faults(
    claim: Claim,
    source: Document,
    quotes: Sequence[str] = (),
    vocab: "SourceIndex | Iterable[str] | None" = None,
    evidence: Sequence[Evidence] = (),
) -> tuple[Span, ...]:
    """Words at fault in a claim that was not judged supported (see the module docstring)."""
    found = list(novel_words(claim, source, vocab)) + list(anchor_quotes(claim, quotes))
    if not found:
        found = list(_absent_from_evidence(claim, evidence))
    if not found:
        return (claim.span,)
    return merge_spans(found)


@dataclass(frozen=True, slots=True)
class FaultQuery:
    """A rejected claim, as :func:`locate` needs it.

    ``judgement`` is the judge's reading of the premise behind the verdict (``premise``, its
    text) and ``contradiction`` of the premise that contradicts it most (``contradiction_premise``);
    None where the judge was not asked (the claim copies the source, or the evidence features
    alone decided). ``quotes`` are words the judge quoted (LLM judges)."""

    claim: Claim
    source: Document
    index: "SourceIndex | Iterable[str] | None"
    evidence: Sequence[Evidence]
    contradicted: bool
    judgement: Any = None
    premise: str = ""
    contradiction: Any = None
    contradiction_premise: str = ""
    quotes: Sequence[str] = ()
    verbatim: bool = False


@dataclass(frozen=True, slots=True)
class Located:
    """The words at fault of one claim: ``faults`` (what the result shows), and its parts:
    ``novel`` (the words the source never uses), ``blamed`` (the words the judge blames by
    occlusion, when it was asked) and ``head`` (the fault head's words, when the judge has one)."""

    faults: tuple[Span, ...]
    novel: tuple[Span, ...] = ()
    blamed: tuple[Span, ...] = ()
    head: tuple[Span, ...] = ()


def head_words(claim: Claim, token_faults: Sequence[tuple[int, int, float]],
               threshold: float = HEAD_THRESHOLD) -> tuple[Span, ...]:
    """The words of ``claim`` its judge's fault head marks: the hypothesis words (the text the
    judge read) with a word piece at or above ``threshold``, found in the claim's own text in
    order; fillers and words not in the claim's text are left out."""
    hyp = claim.hypothesis
    marked = []
    for m in re.finditer(r"\w[\w'’-]*", hyp):
        if any(a < m.end() and m.start() < b and p >= threshold for a, b, p in token_faults):
            marked.append(m.group())
    span = claim.span
    out: list[Span] = []
    pos = 0
    for word in marked:
        if word.lower() in FILLERS:
            continue
        found = re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", span.text[pos:])
        if found is None:
            continue
        a = span.start + pos + found.start()
        out.append(Span(span.doc, a, a + len(word)))
        pos += found.end()
    return merge_spans(out) if out else ()


def locate(
    queries: Sequence[FaultQuery],
    judge_pairs: Callable[[Sequence[tuple[str, str]]], Mapping[tuple[str, str], Any]] | None,
    *,
    occlude: str = "no_novel",
    rule: str = "novel first",
) -> list[Located]:
    """The words at fault of every query, in order.

    With a judge (``judge_pairs``: (premise, hypothesis) pairs -> their judgements): the words
    the source never uses; for a contradicted claim, or one whose every word is in the source,
    also the words the judge blames by occlusion against the premise behind the verdict (an
    unsupported claim with invented words costs no judge call). Judges that quote the words at
    fault are taken at their word, and without a judge :func:`locate_faults` decides.
    ``occlude="always"`` asks the judge about every rejected claim and keeps both parts apart,
    for the evaluation to compare the rules. ``rule`` (:data:`FAULT_RULES`) says what the
    result shows where the judge has a fault head: its words alone, or with the others."""
    if rule not in FAULT_RULES:
        raise ValueError(f"rule must be one of {', '.join(FAULT_RULES)}, not {rule!r}")
    out: list[Located | None] = [None] * len(queries)
    probes: list[tuple[int, tuple[Span, ...], list[tuple[Span, str]], str]] = []
    for i, q in enumerate(queries):
        if q.quotes or judge_pairs is None or q.judgement is None or q.verbatim or not q.premise:
            out[i] = Located(locate_faults(q.claim, q.source, q.quotes, q.index, q.evidence))
            continue
        novel = novel_words(q.claim, q.source, q.index)
        if novel and not q.contradicted and occlude != "always":
            out[i] = Located(merge_spans(list(novel)) or (q.claim.span,), novel=novel)
            continue  # invented words explain an unsupported claim; the judge is not asked
        premise = q.contradiction_premise if q.contradicted else q.premise
        probes.append((i, novel, occlusions(q.claim), premise))
    judged: Mapping[tuple[str, str], Any] = {}
    if probes and judge_pairs is not None:  # probes are only made with a judge
        judged = judge_pairs([(premise, hyp) for _, _, occ, premise in probes for _, hyp in occ])
    for i, novel, occ, premise in probes:
        q = queries[i]
        base = q.contradiction if q.contradicted else q.judgement
        gains = [(j.supported - j.contradicted) - (base.supported - base.contradicted)
                 for j in (judged[(premise, hyp)] for _, hyp in occ)]
        blamed = blamed_words([w for w, _ in occ], gains)
        keep_blame = not novel or q.contradicted
        faults = merge_spans(list(novel) + (list(blamed) if keep_blame else [])) or (q.claim.span,)
        out[i] = Located(faults, novel=novel, blamed=blamed)
    return [_with_head(q, x, rule) for q, x in zip(queries, out) if x is not None]


def _with_head(q: FaultQuery, found: Located, rule: str) -> Located:
    """The fault head's words added to ``found`` (and, by ``rule``, to what it shows)."""
    verdict = q.contradiction if q.contradicted and q.contradiction is not None else q.judgement
    token_faults = getattr(verdict, "token_faults", ()) or ()
    if not token_faults:
        return found
    head = head_words(q.claim, token_faults)
    faults = found.faults
    if rule == "head" and head:
        faults = head
    elif rule == "union" and head:
        faults = merge_spans(list(found.faults if found.faults != (q.claim.span,) else ()) + list(head))
    return Located(faults, novel=found.novel, blamed=found.blamed, head=head)
