"""Evidence: source sentences that bear on a claim, found over the WHOLE source.

Retrieval streams over the source's sentences in fixed-size blocks and keeps only the best
``top_k`` per claim in a heap, so memory stays bounded by the block size however long the
source is; nothing is truncated.
"""

from __future__ import annotations

from dataclasses import dataclass

from .document import Span

__all__ = ["Evidence"]


@dataclass(frozen=True, slots=True)
class Evidence:
    span: Span  # a sentence of the source Document
    score: float  # retrieval similarity to the claim, higher is closer

    @property
    def text(self) -> str:
        return self.span.text


import heapq
import math
import re
from collections import Counter
from typing import Iterable, Protocol, Sequence

from .document import Document

__all__ += ["Retriever", "LexicalRetriever", "content_words", "BLOCK_SENTENCES"]

#: Source sentences scored per block; memory is bounded by this, not by the source length.
BLOCK_SENTENCES = 256

_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being
    has have had do does did will would shall should can could may might must it its this that
    these those he she they we you i his her their our your my them him us me who whom which what
    when where why how not no than then there here so such also into over under about after before
    said says say""".split()
)
_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def content_words(text: str) -> list[str]:
    """Lower-cased content words, crudely stemmed so "meets" matches "meeting"."""
    out = []
    for tok in _TOKEN_RE.findall(text.lower()):
        if tok in _STOPWORDS or (len(tok) < 2 and not tok.isdigit()):
            continue
        out.append(_stem(tok))
    return out


def _stem(tok: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(tok) > len(suffix) + 3 and tok.endswith(suffix):
            return tok[: -len(suffix)]
    return tok


class Retriever(Protocol):
    def retrieve(self, source: Document, queries: Sequence[str], top_k: int) -> list[list[Evidence]]:
        """For each query, the ``top_k`` best source sentences, best first."""
        ...


class LexicalRetriever:
    """IDF-weighted content-word overlap (BM25-like), streamed over the source in blocks.

    The cheap fallback retriever: no model, deterministic, good at exact names and numbers.
    """

    name = "lexical"

    def retrieve(self, source: Document, queries: Sequence[str], top_k: int) -> list[list[Evidence]]:
        sentences = source.sentences
        df: Counter[str] = Counter()
        for s in sentences:
            df.update(set(content_words(s.text)))
        n = max(len(sentences), 1)
        idf = {w: math.log(1 + n / c) for w, c in df.items()}
        qbags = [Counter(content_words(q)) for q in queries]
        heaps: list[list[tuple[float, int]]] = [[] for _ in queries]
        for block_start in range(0, len(sentences), BLOCK_SENTENCES):
            for i in range(block_start, min(block_start + BLOCK_SENTENCES, len(sentences))):
                words = set(content_words(sentences[i].text))
                for q, bag in enumerate(qbags):
                    total = sum(idf.get(w, 0.0) for w in bag) or 1.0
                    score = sum(idf.get(w, 0.0) for w in bag if w in words) / total
                    _push(heaps[q], (score, -i), top_k)
        return [_ranked(h, sentences) for h in heaps]


def _push(heap: list[tuple[float, int]], item: tuple[float, int], k: int) -> None:
    if len(heap) < k:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


def _ranked(heap: Iterable[tuple[float, int]], sentences: Sequence) -> list[Evidence]:
    return [Evidence(sentences[-i], float(score)) for score, i in sorted(heap, reverse=True)]
