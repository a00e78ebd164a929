"""Words: the one home of what verisum counts as a word, a content word and a stem.

Retrieval (:mod:`verisum.evidence`), the features (:mod:`verisum.features`), the words at fault
(:mod:`verisum.faults`) and the static vectors (:mod:`verisum.encoder`) all read words through
this module, so they cannot drift apart. Deliberately crude and fast: English function words,
and a suffix-stripping stem that makes "meets" match "meeting".
"""

from __future__ import annotations

import re

__all__ = ["STOPWORDS", "stem", "content_words", "is_content"]

#: English function words, and the speech verbs every news sentence has.
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being
    has have had do does did will would shall should can could may might must it its this that
    these those he she they we you i his her their our your my them him us me who whom which what
    when where why how not no than then there here so such also into over under about after before
    said says say""".split()
)
_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def stem(tok: str) -> str:
    """A crude stem of a lower-cased word: "meetings" -> "meeting", "approved" -> "approv"."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(tok) > len(suffix) + 3 and tok.endswith(suffix):
            return tok[: -len(suffix)]
    return tok


def is_content(low: str) -> bool:
    """A lower-cased word that states something: not a function word, not a lone letter."""
    return low not in STOPWORDS and (len(low) > 1 or low.isdigit())


def content_words(text: str) -> list[str]:
    """Lower-cased content words of ``text``, stemmed."""
    return [stem(tok) for tok in _TOKEN_RE.findall(text.lower()) if is_content(tok)]
