"""Cheap, robust, model-free signals about a claim, for the combiner.

Each claim gets a flat ``dict[str, float]``: the judge's probabilities (and their log-odds),
the embedding floor found by the retriever (the claim's best cosine to any source sentence and
to any 2-sentence window), and lexical signals that catch extrinsic content:

- names, numbers and dates in the claim that the source never mentions;
- content words with no match (exact or crudely stemmed) anywhere in the source;
- content-word bigrams of the claim that never occur in the source;
- a negation mismatch between the claim and its best evidence;
- the claim's length;
- when the retriever offers it, the word alignment of the claim's own words with the source's
  (``align_mean`` / ``align_min`` / ``soft_novel``, passed through from ``stats``).

All of it is regular expressions and set look-ups over a :class:`SourceIndex` built once per
source (memory linear in the source's vocabulary, not its length squared).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from .claims import Claim
from .document import Document
from .evidence import Evidence
from .text import is_content as _is_content
from .text import stem as _stem

__all__ = ["SourceIndex", "claim_features", "judge_features", "logit", "margin", "add_summary_context", "FEATURE_NAMES",
           "EVIDENCE_FEATURES", "ALIGN_FEATURES", "novel_tokens", "NEGATIONS"]

#: Every feature ``claim_features`` produces (besides any ``judgement.extra``).
FEATURE_NAMES = (
    "supported",
    "contradicted",
    "unsupported",
    "logit_supported",
    "logit_contradicted",
    "margin",
    "emb_sent",
    "emb_win",
    "emb_best",
    "lex_best",
    "lex_doc",
    "evidence_score",
    "novel_words",
    "novel_share",
    "novel_ents",
    "novel_nums",
    "novel_dates",
    "novel_bigrams",
    "neg_mismatch",
    "value_conflict",
    "n_words",
    "sum_emb_best",
    "sum_lex_best",
    "sum_lex_doc",
    "sum_novel_share",
    "align_mean",
    "align_min",
    "soft_novel",
)

#: Word-alignment figures a retriever may add to a claim's stats (the static vectors' coverage of
#: the claim's words by the source's words, :meth:`verisum.encoder.StaticEncoder.alignment`).
ALIGN_FEATURES = ("align_mean", "align_min", "soft_novel")

#: The features that do not depend on the judge: a calibrator that reads only these scores a
#: claim before (and without) any judge call.
EVIDENCE_FEATURES = frozenset(FEATURE_NAMES) - {
    "supported", "contradicted", "unsupported", "logit_supported", "logit_contradicted", "margin"
}

#: Per-summary context added to each claim (means over the summary's claims): a summary that
#: is far from the source overall makes each of its claims more suspect.
_SUMMARY_CONTEXT = {"sum_emb_best": "emb_best", "sum_lex_best": "lex_best", "sum_lex_doc": "lex_doc",
                    "sum_novel_share": "novel_share"}

NEGATIONS = frozenset(
    "not no never none nobody nothing neither nor without cannot n't nt denied denies deny refused "
    "refuses fail failed fails".split()
)
_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
_DAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_DATE_WORDS = frozenset(_MONTHS + _DAYS + ["yesterday", "today", "tomorrow", "tonight", "weekend"])
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
                      "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000",
                      "million": "1000000", "billion": "1000000000", "dozen": "12", "half": "0.5",
                      "first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5",
                      "once": "1", "twice": "2", "single": "1", "double": "2", "triple": "3"})
_TOKEN_RE = re.compile(r"\d[\d,.]*\d|[^\W_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_NUM_RE = re.compile(r"\d[\d,.]*\d|\d")


def _norm_number(tok: str) -> str:
    t = tok.replace(",", "")
    if t.endswith(".0"):
        t = t[:-2]
    return t


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


@dataclass
class SourceIndex:
    """What the features need from a source, built in one pass over its text."""

    vocab: set[str] = field(default_factory=set)  # lower-cased words and their stems
    numbers: set[str] = field(default_factory=set)  # normalised digits, number words as digits
    bigrams: set[tuple[str, str]] = field(default_factory=set)  # adjacent content-word stems

    @classmethod
    def build(cls, source: Document | str) -> "SourceIndex":
        text = source.text if isinstance(source, Document) else source
        idx = cls()
        prev: str | None = None
        for tok in _tokens(text):
            low = tok.lower().replace("’", "'")
            if low.endswith("'s"):
                idx.vocab.add(low)
                low = low[:-2]
            stem = _stem(low)
            idx.vocab.add(low)
            idx.vocab.add(stem)
            if tok[0].isdigit():
                n = _norm_number(tok)
                idx.numbers.add(n)
                idx.vocab.add(n)
            elif low in _NUMBER_WORDS:
                idx.numbers.add(_NUMBER_WORDS[low])
            if _is_content(low):
                if prev is not None:
                    idx.bigrams.add((prev, stem))
                prev = stem
        return idx

    def has_word(self, low: str) -> bool:
        return low in self.vocab or _stem(low) in self.vocab

    def knows(self, token: str) -> bool:
        """Whether the source uses this word of a claim: the one rule of novelty, shared by the
        features (``novel_*``) and the words at fault, so a score and its marked words agree.

        Case, a possessive "'s" and crude suffixes are ignored; digits match digits written
        differently (1,000 / 1000) and number words ("three" for 3); a hyphenated word is known
        when each of its content parts is.
        """
        low = token.lower().replace("’", "'")
        if low.endswith("'s"):
            low = low[:-2]
        if not low:
            return True
        if low[0].isdigit():
            n = _norm_number(low)
            return n in self.numbers or n in self.vocab or low in self.vocab
        if low in _NUMBER_WORDS and _NUMBER_WORDS[low] in self.numbers:
            return True
        if self.has_word(low):
            return True
        parts = [p for p in low.replace("-", " ").replace("'", " ").split() if p]
        if len(parts) > 1:
            return all(not _is_content(p) or self.knows(p) for p in parts)
        return False


#: Number words that name one value for sure (not "one" of the, "second" of time, "single" as
#: an adjective, nor the scale words of "2 million"), for the value-conflict test.
_CARDINALS = frozenset(w for w in _NUMBER_WORDS if w not in {
    "one", "first", "second", "once", "single", "double", "triple", "half", "zero",
    "hundred", "thousand", "million", "billion", "dozen"})
_FULL_MONTHS = frozenset(_MONTHS[:12])


def _typed_values(text: str) -> list[tuple[str, str, str, str]]:
    """(token, kind, value, anchor) of the numbers, weekdays and month names of ``text``. A
    number's anchor is the word after it (else before it): "5 percent" and "2 percent" are two
    values of one thing, "forty dollars" and "two leaders" are not. Days and months need none."""
    toks = _tokens(text)
    out = []
    for i, tok in enumerate(toks):
        low = tok.lower()
        if tok[0].isdigit() or low in _CARDINALS:
            value = _norm_number(tok) if tok[0].isdigit() else _NUMBER_WORDS[low]
            near = toks[i + 1] if i + 1 < len(toks) else (toks[i - 1] if i else "")
            out.append((tok, "number", value, _stem(near.lower())))
        elif low in _DAYS:
            out.append((tok, "day", low, ""))
        elif low in _FULL_MONTHS and tok[0].isupper():  # "May", not the verb
            out.append((tok, "month", low, ""))
    return out


def value_conflicts(text: str, evidence: str, index: SourceIndex) -> list[str]:
    """Numbers, weekdays and months of ``text`` that the source never uses (:meth:`SourceIndex.knows`)
    where its evidence gives another value of the same kind, for the same thing: "approved on
    Tuesday" against "approved on Monday", "rose by 5 percent" against "rose by 2 percent". A
    swapped value is a contradiction that word overlap hides and that the judge, trained on
    sentence pairs, often reads as support."""
    given = {(kind, value, anchor) for _, kind, value, anchor in _typed_values(evidence)}
    return [tok for tok, kind, value, anchor in _typed_values(text)
            if not index.knows(tok) and any(k == kind and a == anchor and v != value for k, v, a in given)]


def novel_tokens(text: str, index: SourceIndex) -> dict[str, list[str]]:
    """Content words, names, numbers and dates of ``text`` that the source lacks
    (:meth:`SourceIndex.knows`)."""
    out: dict[str, list[str]] = {"words": [], "ents": [], "nums": [], "dates": []}
    for tok in _tokens(text):
        low = tok.lower().replace("’", "'")
        if low.endswith("'s"):  # possessive: "Putin's" is about Putin
            low = low[:-2]
        if not _is_content(low) or index.knows(tok):
            continue
        out["words"].append(tok)
        if tok[0].isdigit() or low in _NUMBER_WORDS:
            out["nums"].append(tok)
        elif low in _DATE_WORDS:
            out["dates"].append(tok)
        elif tok[0].isupper():
            out["ents"].append(tok)
    return out


def _negated(text: str) -> bool:
    low = text.lower().replace("’", "'")
    if "n't" in low:
        return True
    return any(t in NEGATIONS for t in re.findall(r"[a-z]+", low))


def logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def margin(supported: float, contradicted: float) -> float:
    """The judge's support margin: the log-odds of *supported* minus those of *contradicted*
    (SummaC-ZS's score, on the log-odds scale). One signal, larger when more supported. On the
    bench-dev rows the claim-level combiner fit (:func:`verisum.lodo.fit`) dropped
    ``logit_contradicted`` given as a signal of its own (its weight came out the wrong way round
    once ``logit_supported`` was in), and what it says about a summary was lost with it; inside
    the margin it keeps the direction its meaning gives. Not the join's settling margin
    (:data:`verisum.checker.JOIN_SETTLES`), which is on the probability scale."""
    return logit(supported) - logit(contradicted)


def claim_features(
    claim: Claim,
    evidence: Sequence[Evidence],
    judgement: object | None,
    source: Document,
    index: SourceIndex,
    stats: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The feature vector of one claim (names in :data:`FEATURE_NAMES`).

    ``judgement`` is the judge's :class:`~verisum.judges.Judgement` (or None: neutral probs);
    ``stats`` are the retriever's floor statistics for this claim (``emb_sent``, ``emb_win``,
    ``lex_best``), absent for a retriever without embeddings.
    """
    stats = stats or {}
    span_text = claim.span.text
    toks = [t for t in _tokens(span_text) if _is_content(t.lower())]
    novel = novel_tokens(span_text, index)
    stems = [_stem(t.lower()) for t in toks]
    bigrams = list(zip(stems, stems[1:]))
    novel_bi = sum(1 for b in bigrams if b not in index.bigrams)
    best_ev = max(evidence, key=lambda e: e.score).span.text if evidence else ""
    ev_score = max((e.score for e in evidence), default=0.0)
    lex_best = float(stats.get("lex_best", ev_score))
    emb_sent = float(stats.get("emb_sent", lex_best))
    emb_win = float(stats.get("emb_win", emb_sent))
    feats = judge_features(judgement)
    feats.update({
        "emb_sent": emb_sent,
        "emb_win": emb_win,
        "emb_best": max(emb_sent, emb_win),
        "lex_best": lex_best,
        "lex_doc": 1.0 - len(novel["words"]) / max(len(toks), 1),
        "evidence_score": float(ev_score),
        "novel_words": float(len(novel["words"])),
        "novel_share": len(novel["words"]) / max(len(toks), 1),
        "novel_ents": float(len(novel["ents"])),
        "novel_nums": float(len(novel["nums"])),
        "novel_dates": float(len(novel["dates"])),
        "novel_bigrams": novel_bi / max(len(bigrams), 1),
        "neg_mismatch": float(_negated(claim.hypothesis) != _negated(best_ev)) if best_ev else 0.0,
        "value_conflict": float(len(value_conflicts(span_text, " ".join(e.span.text for e in evidence), index))),
        "n_words": math.log1p(len(toks)),
    })
    feats.update({k: float(stats[k]) for k in ALIGN_FEATURES if k in stats})
    return feats


def add_summary_context(features: Sequence[dict[str, float]]) -> None:
    """Add the ``sum_*`` features (means over one summary's claims) to each claim, in place."""
    if not features:
        return
    for name, base in _SUMMARY_CONTEXT.items():
        mean = sum(f[base] for f in features) / len(features)
        for f in features:
            f[name] = mean


def judge_features(judgement: object | None) -> dict[str, float]:
    """The judge's part of the feature vector: its probabilities, their log-odds, the margin
    between them (:func:`margin`), its extras."""
    probs = getattr(judgement, "probs", None) or {"supported": 1 / 3, "contradicted": 1 / 3, "unsupported": 1 / 3}
    sup, con = float(probs["supported"]), float(probs["contradicted"])
    feats = {
        "supported": sup,
        "contradicted": con,
        "unsupported": float(probs["unsupported"]),
        "logit_supported": logit(sup),
        "logit_contradicted": logit(con),
        "margin": margin(sup, con),
    }
    extra = getattr(judgement, "extra", None)
    if extra:
        feats.update({k: float(v) for k, v in extra.items()})
    return feats
