"""The default writer: offline, CPU-only, fast. It picks the article sentences that carry the
main news and makes them read as stand-alone bullets.

Sentences too short or too long for a bullet, and page furniture ("click here"), are never
candidates. The others are scored by the learned ranker (``verisum.highlights.ranker``: a
logistic regression over position, centrality, length, quoted speech and repetition, fitted on
news stories with reference summaries), or with ``ranker=None`` by the hand-set score:

- position: news puts the main facts first (a decaying weight on the sentence index);
- centrality: TF-IDF cosine of the sentence to the whole article, so sentences about what the
  article is about rank above asides;
- quotes: quoted speech is rarely the news.

Candidates are then ordered by maximal marginal relevance (a candidate that repeats a better
one ranks lower), made stand-alone (``repair.make_standalone``), and given shorter forms for
long sentences (``repair.shorter_forms``). ``write_highlights`` checks them and prints only
the ones that pass. Both scores were tuned on the 100 CNN/DM stories of
``../shared/data/news/cnndm_dev.jsonl`` (see the README's Highlights section).
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from ..calibration import Calibrator
from ..document import Document, Span
from ..evidence import content_words
from .repair import BOILERPLATE_RE, clean_sentence, is_lowercased, make_standalone, recase, shorter_forms, words
from .ranker import is_speech, load_ranker, sentence_features
from .result import Dropped
from .writer import Candidate, Finding, Proposal

__all__ = ["ExtractiveWriter"]



class ExtractiveWriter:
    """Picks and repairs article sentences; never writes a word the article does not have,
    except a name put in place of a leading pronoun and a dropped leading connective.

    ranker: the sentence ranker: "default" (the shipped one), a path to one made by
        ``verisum train ranker``, a fitted :class:`~verisum.calibration.Calibrator` over
        ``ranker.FEATURES``, or None for the hand-set score below.
    position_decay: how fast the hand-set position weight falls (1 / (1 + index) ** decay).
    position_weight, centrality_weight: how much each signal counts in the hand-set score.
    quote_penalty: subtracted from sentences with quoted speech in the hand-set score.
    min_words, max_words: sentences outside these lengths are not candidates.
    shorten_above: sentences longer than this (in words) are offered in shorter forms.
    redundancy: MMR weight of the similarity to a better-ranked candidate.
    candidates: how many candidates to propose per bullet asked for.
    """

    name = "extractive"

    def __init__(
        self,
        *,
        ranker: "str | Path | Calibrator | None" = "default",
        position_decay: float = 1.0,
        position_weight: float = 1.0,
        centrality_weight: float = 1.0,
        quote_penalty: float = 0.15,
        min_words: int = 6,
        max_words: int = 60,
        shorten_above: int = 30,
        redundancy: float = 0.5,
        candidates: int = 4,
    ) -> None:
        self.ranker = ranker
        # Loaded here so that a bad path fails when the writer is made, not mid-batch.
        if ranker is None or isinstance(ranker, Calibrator):
            self._ranker = ranker
        else:
            self._ranker = load_ranker(None if ranker == "default" else ranker)
        self.position_decay = position_decay
        self.position_weight = position_weight
        self.centrality_weight = centrality_weight
        self.quote_penalty = quote_penalty
        self.min_words = min_words
        self.max_words = max_words
        self.shorten_above = shorten_above
        self.redundancy = redundancy
        self.candidates = candidates

    def params(self) -> dict[str, Any]:
        return {
            "ranker": (self.ranker if self.ranker is None or self.ranker == "default"
                       else "in-process" if isinstance(self.ranker, Calibrator) else str(self.ranker)),
            "position_decay": self.position_decay,
            "position_weight": self.position_weight,
            "centrality_weight": self.centrality_weight,
            "quote_penalty": self.quote_penalty,
            "min_words": self.min_words,
            "max_words": self.max_words,
            "shorten_above": self.shorten_above,
            "redundancy": self.redundancy,
            "candidates": self.candidates,
        }

    def revise(self, article: Document, finding: Finding, round: int) -> str | None:
        # An extracted sentence that fails is replaced by the next candidate, not rewritten.
        return None

    # -- scoring -------------------------------------------------------------------------
    def _eligible(self, article: Document) -> list[tuple[int, Span, str]]:
        out = []
        for i, s in enumerate(article.sentences):
            text = clean_sentence(s.text)
            nw = words(text)
            if nw < self.min_words or nw > self.max_words:
                continue
            if BOILERPLATE_RE.search(text):
                continue
            if text[-1:] not in ".!?\"'”’)":  # a title or a caption, not a sentence
                continue
            out.append((i, s, text))
        return out

    def ranker_features(self, article: Document) -> tuple[list[tuple[int, Span, str]], list[Counter], list[dict[str, float]]]:
        """The candidates (index, sentence, cleaned text), their content-word bags and the
        ranker's features of each: what the ranker scores here and what ``verisum train
        ranker`` fits it on, computed in this one place so the two cannot drift apart."""
        eligible = self._eligible(article)
        bags = [Counter(content_words(t)) for _, _, t in eligible]
        return eligible, bags, sentence_features(eligible, bags, tfidf_centrality(bags), len(article.sentences))

    def score_sentences(self, article: Document) -> list[tuple[float, int, Span, str, Counter]]:
        """(score, index, sentence, cleaned text, content-word bag), in article order."""
        if self._ranker is not None:
            eligible, bags, feats = self.ranker_features(article)
            probs: Iterable[float] = self._ranker.score_many(feats) if feats else []
            return [(float(p), i, s, text, bag) for p, (i, s, text), bag in zip(probs, eligible, bags)]
        eligible = self._eligible(article)
        bags = [Counter(content_words(t)) for _, _, t in eligible]
        out = []
        for rank, ((i, s, text), bag, cent) in enumerate(zip(eligible, bags, tfidf_centrality(bags))):
            pos = 1.0 / (1.0 + rank) ** self.position_decay
            score = self.position_weight * pos + self.centrality_weight * cent
            if is_speech(s.text, text):
                score -= self.quote_penalty
            out.append((score, i, s, text, bag))
        return out

    # -- proposing -----------------------------------------------------------------------
    def propose(self, article: Document, n: int) -> Proposal:
        scored = self.score_sentences(article)
        dropped: list[Dropped] = []
        want = max(n * self.candidates, n + 4)
        ranked: list[tuple[float, int, Span, str, Counter]] = []
        pool = list(scored)
        norms = [math.sqrt(sum(v * v for v in item[4].values())) or 1.0 for item in pool]
        max_sim = [0.0] * len(pool)
        alive = list(range(len(pool)))
        while alive and len(ranked) < want:
            # Maximal marginal relevance: the best score, less the likeness to what ranks above.
            k = max(alive, key=lambda j: pool[j][0] - self.redundancy * max_sim[j])
            alive.remove(k)
            ranked.append(pool[k])
            bag, norm = pool[k][4], norms[k]
            for j in alive:
                other = pool[j][4]
                dot = sum(v * other.get(w, 0) for w, v in bag.items())
                max_sim[j] = max(max_sim[j], dot / (norm * norms[j]))
        candidates = []
        lowered = is_lowercased(article)
        for score, _, span, text, _ in ranked:
            fixed = make_standalone(article, span, text)
            if fixed.text is None:
                dropped.append(Dropped(text, fixed.reason or "does not stand alone"))
                continue
            bullet = recase(article, fixed.text) if lowered else fixed.text
            shorter = tuple(shorter_forms(bullet)) if words(bullet) > self.shorten_above else ()
            candidates.append(Candidate(bullet, round(score, 4), (span.start, span.end), shorter))
        meta = {"sentences": len(article.sentences), "eligible": len(scored), "lowercased_article": lowered}
        return Proposal(tuple(candidates), tuple(dropped), meta)


def tfidf_centrality(bags: list[Counter]) -> list[float]:
    """Each bag's TF-IDF cosine to the sum of all bags (IDF over the bags themselves)."""
    df: Counter[str] = Counter()
    for b in bags:
        df.update(b.keys())
    n = max(len(bags), 1)
    idf = {w: math.log(1 + n / c) for w, c in df.items()}
    centroid: Counter[str] = Counter()
    for b in bags:
        centroid.update({w: idf[w] for w in b})
    cnorm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
    out = []
    for bag in bags:
        vec = {w: c * idf[w] for w, c in bag.items()}
        vnorm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        out.append(sum(v * centroid[w] for w, v in vec.items()) / (vnorm * cnorm))
    return out
