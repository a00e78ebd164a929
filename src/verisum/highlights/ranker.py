"""The extractive writer's learned sentence score: which article sentences make highlights.

A logistic regression (:class:`verisum.calibration.Calibrator`) over cheap features of each
candidate sentence, fitted on stories with reference summaries: a sentence is a positive
example when the greedy ROUGE-1 oracle picks it for the reference (the usual extractive
label). The shipped model, ``models/highlights-ranker.json``, was fitted on 269 stories of
three kinds (CNN/DM highlights, Newsroom summaries, freelance writers' summaries) in
``../shared/data/news/``:

    verisum train ranker --references cnndm_dev.jsonl --references newsroom_eval.jsonl --references writer_summaries_eval.jsonl --printed

which also prints the cross-validated ROUGE-1 of the learned score against the hand-set one
(the README's Highlights section has the figures). The features need no model and cost
microseconds a sentence:

- position: ``pos`` (1 / (1 + rank)), ``logrank``, ``rel`` (rank / candidates), ``abs_rel``
  (index / all sentences), ``first``;
- content: ``cent`` (TF-IDF cosine to the article), ``sim_first`` (to the first candidate),
  ``novelty`` (share of its content words found in no other candidate), ``digits``;
- form: ``loglen``, ``nw`` (words / 30), ``quote`` (quoted or first-person speech), ``said``
  (an attribution), ``caption`` (a photo pointer such as "(pictured)");
- repetition: ``echo`` (its best likeness to an earlier sentence) and ``echoed`` (to a later
  one), within :data:`ECHO_WINDOW` candidates. News sites repeat the main facts in photo captions and summaries further down, so a
  sentence that is echoed later tends to be one the highlights carry.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from ..calibration import Calibrator
from ..document import PHOTO_POINTER_RE, Span
from ..errors import InputError
from ..resources import model_path

__all__ = ["FEATURES", "DEFAULT_RANKER", "sentence_features", "load_ranker", "is_speech"]

DEFAULT_RANKER = model_path("highlights-ranker.json")

FEATURES = (
    "pos", "logrank", "rel", "abs_rel", "first",
    "cent", "sim_first", "novelty", "digits",
    "loglen", "nw", "quote", "said", "caption",
    "echo", "echoed",
)

#: How many candidates either side a sentence's repetition is looked for in.
ECHO_WINDOW = 64

_SAID_RE = re.compile(r"\b(?:said|says|told|according to)\b", re.IGNORECASE)
_DIGIT_RE = re.compile(r"\d")
_QUOTE_RE = re.compile(r"[\"“”]|(?:^|\s)'|'(?:\s|[.,]|$)|‘|’(?:\s|$)")
# First- and second-person words outside quote marks mean a quote lost its marks.
_PERSON_RE = re.compile(r"(?<![.\w])(?:i|me|my|mine|we|our|you|your)(?![.\w])", re.IGNORECASE)


def is_speech(raw: str, cleaned: str) -> bool:
    """Whether a sentence is quoted speech: quote marks in its ``raw`` text, or first- or
    second-person words in its ``cleaned`` text (``repair.clean_sentence`` drops stray marks)."""
    return bool(_QUOTE_RE.search(raw) or _PERSON_RE.search(cleaned))


def _unit(bag: Counter) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in bag.values()))
    return {w: v / norm for w, v in bag.items()} if norm else {}


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine of two unit bags."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())


def sentence_features(
    eligible: Sequence[tuple[int, Span, str]],
    bags: Sequence[Counter],
    centrality: Sequence[float],
    sentences: int,
) -> list[dict[str, float]]:
    """The ranker's features of each candidate sentence, in article order.

    eligible: (index in the article, sentence span, cleaned text) of each candidate.
    bags: each candidate's content-word counts; centrality: each one's TF-IDF centrality.
    sentences: how many sentences the article has (candidates or not).
    """
    from .repair import words

    n = max(len(eligible), 1)
    df: Counter[str] = Counter()
    for bag in bags:
        df.update(bag.keys())
    # Likeness to the neighbours within ECHO_WINDOW candidates (all of them in a news story):
    # echo looks back, echoed ahead. The window keeps a book-length source linear in its
    # length (every pair of 6,000 sentences took two minutes).
    unit = [_unit(bag) for bag in bags]
    echo = [0.0] * len(bags)
    echoed = [0.0] * len(bags)
    for a in range(len(bags)):
        for b in range(a + 1, min(a + 1 + ECHO_WINDOW, len(bags))):
            sim = _dot(unit[a], unit[b])
            echoed[a] = max(echoed[a], sim)
            echo[b] = max(echo[b], sim)
    out = []
    for rank, ((i, span, text), bag, cent) in enumerate(zip(eligible, bags, centrality)):
        nw = words(text)
        out.append({
            "pos": 1.0 / (1 + rank),
            "logrank": math.log1p(rank),
            "rel": rank / n,
            "abs_rel": i / max(sentences, 1),
            "first": float(rank == 0),
            "cent": cent,
            "sim_first": _dot(unit[rank], unit[0]) if rank else 1.0,
            "novelty": sum(1 for w in bag if df[w] == 1) / max(len(bag), 1),
            "digits": float(bool(_DIGIT_RE.search(text))),
            "loglen": math.log(max(nw, 1)),
            "nw": nw / 30.0,
            "quote": float(is_speech(span.text, text)),
            "said": float(bool(_SAID_RE.search(text))),
            "caption": float(bool(PHOTO_POINTER_RE.search(span.text))),
            "echo": echo[rank],
            "echoed": echoed[rank],
        })
    return out


def load_ranker(path: str | Path | None = None) -> Calibrator:
    """The ranker at ``path`` (default: the shipped one), checked against :data:`FEATURES`."""
    return _load(str(Path(path).resolve()) if path is not None else str(DEFAULT_RANKER))


@lru_cache(maxsize=8)
def _load(path: str) -> Calibrator:
    try:
        ranker = Calibrator.load(path)
    except FileNotFoundError:
        raise InputError(f"no sentence ranker at {path}") from None
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path} is not a sentence ranker: {exc}") from None
    unknown = [f for f in ranker.features if f not in FEATURES]
    if unknown or not ranker.fitted:
        what = f"unknown features {unknown}" if unknown else "it was never fitted"
        raise InputError(f"{path} is not a usable sentence ranker: {what}")
    return ranker
