"""Evidence: source sentences that bear on a claim, found over the WHOLE source.

Retrieval streams over the source's sentences in fixed-size blocks and keeps only the best
``top_k`` per claim in a heap, so memory stays bounded by the block size however long the
source is; nothing is truncated.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Protocol, Sequence

import numpy as np

from .document import Document, Span
from .text import content_words

if TYPE_CHECKING:
    from .encoder import Encoder

__all__ = ["Evidence", "Retriever", "Retrieval", "LexicalRetriever", "HybridRetriever", "content_words",
           "BLOCK_SENTENCES"]


@dataclass(frozen=True, slots=True)
class Evidence:
    span: Span  # a sentence of the source Document
    score: float  # retrieval similarity to the claim, higher is closer

    @property
    def text(self) -> str:
        return self.span.text


#: Source sentences scored per block; memory is bounded by this, not by the source length.
BLOCK_SENTENCES = 256

def _terms(text: str) -> set[str]:
    """What lexical retrieval matches on: the content words' stems, and for longer words also
    their first five letters, so that "chaired" finds "chairmanship" and "Kazakhstani" finds
    "Kazakhstan" (half the credit of the same stem: the word itself counts twice)."""
    words = content_words(text)
    return set(words) | {"~" + w[:5] for w in words if len(w) >= 5}




@dataclass(frozen=True, slots=True)
class Retrieval:
    """What a retriever found for one claim: the evidence, best first, and floor statistics.

    ``stats`` holds ``lex_best`` (IDF-weighted share of the claim's content words in the best
    sentence) and, for the hybrid retriever, ``emb_sent`` / ``emb_win`` (the claim's highest
    cosine to any source sentence / to any two adjacent sentences).
    """

    evidence: list[Evidence]
    stats: dict[str, float]


class Retriever(Protocol):
    def retrieve(self, source: Document, queries: Sequence[str], top_k: int) -> list[list[Evidence]]:
        """For each query, the ``top_k`` best source sentences, best first."""
        ...


class _Lexicon:
    """IDF over the source's sentences (one pass of counting; memory ~ the vocabulary)."""

    def __init__(self, sentences: Sequence[Span]) -> None:
        df: Counter[str] = Counter()
        for s in sentences:
            df.update(_terms(s.text))
        n = max(len(sentences), 1)
        self.idf = {w: math.log(1 + n / c) for w, c in df.items()}

    def query(self, text: str) -> tuple[dict[str, float], float]:
        weights = {w: self.idf.get(w, math.log(1 + 1.0)) for w in _terms(text)}
        return weights, (sum(weights.values()) or 1.0)


def _lex_score(weights: dict[str, float], total: float, words: set[str]) -> float:
    return sum(v for w, v in weights.items() if w in words) / total


class LexicalRetriever:
    """IDF-weighted content-word overlap (BM25-like), streamed over the source in blocks.

    The cheap fallback retriever: no model, deterministic, good at exact names and numbers.
    """

    name = "lexical"

    def retrieve(self, source: Document, queries: Sequence[str], top_k: int) -> list[list[Evidence]]:
        return [r.evidence for r in self.search(source, queries, top_k)]

    def search(self, source: Document, queries: Sequence[str], top_k: int) -> list[Retrieval]:
        sentences = source.sentences
        lex = _Lexicon(sentences)
        qs = [lex.query(q) for q in queries]
        heaps: list[list[tuple[float, int]]] = [[] for _ in queries]
        best = [0.0] * len(queries)
        for block_start in range(0, len(sentences), BLOCK_SENTENCES):
            for i in range(block_start, min(block_start + BLOCK_SENTENCES, len(sentences))):
                words = _terms(sentences[i].text)
                for q, (weights, total) in enumerate(qs):
                    score = _lex_score(weights, total, words)
                    best[q] = max(best[q], score)
                    _push(heaps[q], (score, -i), top_k)
        return [Retrieval(_ranked(h, sentences), {"lex_best": b}) for h, b in zip(heaps, best)]


class HybridRetriever:
    """Sentence embeddings plus IDF-weighted word overlap.

    A source sentence's score is ``embedding_weight * cosine + (1 - embedding_weight) * lexical``;
    the embeddings find paraphrases, the lexical part pins exact names and numbers.

    encoder: anything with ``encode(texts) -> unit-length rows``; default all-MiniLM-L6-v2
        (:class:`~verisum.encoder.Encoder`). The embedded judge passes the static vectors
        (:class:`~verisum.encoder.StaticEncoder`) with ``shortlist=None``.
    shortlist: sentences embedded per claim. Every source sentence is read and scored
        lexically, streamed in blocks of :data:`BLOCK_SENTENCES`; with a transformer encoder
        embedding is the expensive part (about 12 ms of CPU a sentence), so only a shortlist is
        embedded: for each claim, the ``shortlist`` sentences with the highest lexical score,
        plus the neighbours of its two best (so that a claim fused from two adjacent sentences
        finds its window). ``None`` embeds every sentence.
    cache_size: embeddings kept in an LRU cache keyed by text (a highlights run or a server
        checks many summaries of one article, and each sentence is embedded once); sentences of
        a source longer than one block are not cached.
    aligner: optional; anything with ``alignment(texts, source_texts) -> [dict]`` (the static
        vectors' word-by-word coverage, :meth:`~verisum.encoder.StaticEncoder.alignment`), which
        :meth:`align` offers the Checker for each claim's features.
    """

    name = "hybrid"

    def __init__(
        self,
        encoder: "Encoder | None" = None,
        *,
        embedding_weight: float = 0.6,
        shortlist: int | None = 8,
        cache_size: int = 4096,
        aligner: Any = None,
    ) -> None:
        if shortlist is not None and shortlist < 1:
            raise ValueError("shortlist must be at least 1 (or None: embed every sentence)")
        self.encoder = encoder
        self.embedding_weight = embedding_weight
        self.shortlist = shortlist
        self.cache_size = cache_size
        self.aligner = aligner
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def _encoder(self) -> "Encoder":
        if self.encoder is None:
            from .encoder import Encoder

            self.encoder = Encoder()
        return self.encoder

    def retrieve(self, source: Document, queries: Sequence[str], top_k: int) -> list[list[Evidence]]:
        return [r.evidence for r in self.search(source, queries, top_k)]

    def embed(self, texts: Sequence[str], *, cache: bool = True) -> np.ndarray:
        """Unit-length embeddings of ``texts``, through the cache; only the misses are encoded."""
        encoder = self._encoder()
        if callable(getattr(encoder, "load", None)):
            encoder.load()  # a loaded encoder knows its dimension
        out = np.empty((len(texts), getattr(encoder, "dim", 384)), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for i, t in enumerate(texts):
                hit = self._cache.get(t) if cache else None
                if hit is None:
                    missing.setdefault(t, []).append(i)
                else:
                    self._cache.move_to_end(t)
                    out[i] = hit
        if missing:
            todo = list(missing)
            emb = encoder.encode(todo)
            with self._lock:
                for t, row in zip(todo, emb):
                    out[missing[t]] = row
                    if cache and self.cache_size > 0:
                        self._cache[t] = row
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return out

    def clear_cache(self) -> None:
        """Forget every cached embedding."""
        with self._lock:
            self._cache.clear()

    def _shortlist(self, sentences: Sequence[Span], qs: Sequence[tuple[dict[str, float], float]]) -> list[int]:
        """Indices of the sentences worth embedding, in source order (one streamed lexical pass)."""
        assert self.shortlist is not None
        heaps: list[list[tuple[float, int]]] = [[] for _ in qs]
        for i, s in enumerate(sentences):
            words = _terms(s.text)
            for q, (weights, total) in enumerate(qs):
                _push(heaps[q], (_lex_score(weights, total, words), -i), self.shortlist)
        chosen: set[int] = set()
        for heap in heaps:
            for rank, (_, neg) in enumerate(sorted(heap, reverse=True)):
                i = -neg
                chosen.add(i)
                if rank < 2:
                    chosen.update(j for j in (i - 1, i + 1) if 0 <= j < len(sentences))
        return sorted(chosen)

    def search(self, source: Document, queries: Sequence[str], top_k: int) -> list[Retrieval]:
        sentences = source.sentences
        if not queries:
            return []
        lex = _Lexicon(sentences)
        qs = [lex.query(q) for q in queries]
        if self.shortlist is None or len(sentences) <= self.shortlist:
            chosen: Sequence[int] = range(len(sentences))
        else:
            chosen = self._shortlist(sentences, qs)
        # A long source's sentences are unlikely to come again: they would only evict the cache.
        cache = len(chosen) <= BLOCK_SENTENCES
        qemb = self.embed(list(queries))
        w = self.embedding_weight
        heaps: list[list[tuple[float, int]]] = [[] for _ in queries]
        best_sent = np.full(len(queries), -1.0)
        best_win = np.full(len(queries), -1.0)
        best_lex = np.zeros(len(queries))
        prev: tuple[int, np.ndarray] | None = None  # last embedded sentence of the previous block
        for lo in range(0, len(chosen), BLOCK_SENTENCES):
            idx = list(chosen[lo : lo + BLOCK_SENTENCES])
            emb = self.embed([sentences[i].text for i in idx], cache=cache)
            cos = qemb @ emb.T  # [queries, block]
            best_sent = np.maximum(best_sent, cos.max(axis=1))
            # Two-sentence windows, where both sentences are embedded and adjacent in the source.
            ext_idx = idx if prev is None else [prev[0], *idx]
            ext = emb if prev is None else np.vstack([prev[1][None, :], emb])
            pairs = [j for j in range(len(ext_idx) - 1) if ext_idx[j + 1] == ext_idx[j] + 1]
            if pairs:
                win = ext[pairs] + ext[[j + 1 for j in pairs]]
                win /= np.maximum(np.linalg.norm(win, axis=1, keepdims=True), 1e-12)
                best_win = np.maximum(best_win, (qemb @ win.T).max(axis=1))
            prev = (idx[-1], emb[-1])
            lexs = np.zeros_like(cos)
            for j, i in enumerate(idx):
                words = _terms(sentences[i].text)
                for q, (weights, total) in enumerate(qs):
                    lexs[q, j] = _lex_score(weights, total, words)
            best_lex = np.maximum(best_lex, lexs.max(axis=1))
            scores = w * cos + (1 - w) * lexs
            for q in range(len(queries)):
                row = scores[q]
                for j in np.argsort(-row)[:top_k]:
                    _push(heaps[q], (float(row[j]), -idx[int(j)]), top_k)
        best_win = np.where(best_win < -0.5, best_sent, best_win)  # no two adjacent sentences
        return [
            Retrieval(
                _ranked(h, sentences),
                {"emb_sent": float(bs), "emb_win": float(bw), "lex_best": float(bl)},
            )
            for h, bs, bw, bl in zip(heaps, best_sent, best_win, best_lex)
        ]

    def align(self, source: Document, texts: Sequence[str]) -> list[dict[str, float]]:
        """The aligner's word-by-word coverage of each text by the source (empty dicts without
        an aligner). The Checker passes each claim's own words (its span, not the context a
        dependent clause is judged with), so an invented clause is measured by itself."""
        if self.aligner is None:
            return [{} for _ in texts]
        return self.aligner.alignment(list(texts), (s.text for s in source.sentences))


def _push(heap: list[tuple[float, int]], item: tuple[float, int], k: int) -> None:
    if len(heap) < k:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


def _ranked(heap: Iterable[tuple[float, int]], sentences: Sequence) -> list[Evidence]:
    return [Evidence(sentences[-i], float(score)) for score, i in sorted(heap, reverse=True)]
