"""Words at fault inside a claim, as spans of the summary Document.

A word is at fault when the source never uses it (a name, number or content word the writer
invented), or when a judge quotes it. Quotes are anchored back into the claim by exact,
then case-insensitive search; a quote that is not in the claim is dropped (a judge cannot
mark words the summary does not contain).
"""

from __future__ import annotations

from typing import Iterable, Sequence

from .claims import Claim
from .document import Document, Span
from .evidence import _stem, _STOPWORDS

__all__ = ["novel_words", "anchor_quotes", "locate_faults"]


def _source_vocab(source: Document) -> set[str]:
    vocab: set[str] = set()
    for w in source.words:
        low = w.text.lower()
        vocab.add(low)
        vocab.add(_stem(low))
    return vocab


def novel_words(claim: Claim, source: Document, vocab: set[str] | None = None) -> tuple[Span, ...]:
    """Content words of the claim's span that the source never uses."""
    vocab = _source_vocab(source) if vocab is None else vocab
    out = []
    for w in claim.span.words:
        low = w.text.lower()
        if low in _STOPWORDS or (len(low) < 2 and not low.isdigit()):
            continue
        if low not in vocab and _stem(low) not in vocab:
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


def locate_faults(
    claim: Claim,
    source: Document,
    quotes: Sequence[str] = (),
    vocab: set[str] | None = None,
) -> tuple[Span, ...]:
    """Words at fault in a claim that was not judged supported."""
    spans = {(s.start, s.end): s for s in anchor_quotes(claim, quotes)}
    for s in novel_words(claim, source, vocab):
        spans.setdefault((s.start, s.end), s)
    if not spans:
        return ()
    return tuple(sorted(spans.values(), key=lambda s: s.start))
