"""Generated inputs for the property tests (tests/test_properties.py) and the long fuzz run
(benchmarks/fuzz.py): text that looks like articles and summaries, with the awkward parts mixed
in (bullets, stray punctuation, CRLF, emoji, lone surrogates, control characters, very long
words), JSONL lines and raw bytes, and HTTP request bodies.

The targets are the boundaries where text enters verisum: each must return a result or raise a
:class:`verisum.errors.VerisumError`, never anything else.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from hypothesis import strategies as st

WORDS = ["The", "council", "approved", "the", "budget", "on", "Monday", "not", "4,200", "3.5", "Mr.", "U.S.",
         "Putin", "met", "Erdogan", "in", "Astana", "which", "highlighting", "including", "despite", "said", "🎉",
         "naïve", "東京", "-", "•", ";", ",", ".", "!", "?", "(pictured)", "\"", "'s", "x" * 300]
SEPARATORS = [" ", " ", " ", "\n", "\r\n", "\n\n", "\t", ". ", ", ", "\n- ", "\n* ", "\u00a0", "\u2028"]
ODD = ["\ud800", "\udfff", "\x00", "\x1b", "\ufeff", "\u200b", "\uffff"]

word = st.sampled_from(WORDS) | st.text(min_size=1, max_size=12)
#: Article- or summary-like text, with the awkward characters mixed in now and then.
texts = st.lists(st.tuples(word, st.sampled_from(SEPARATORS)), max_size=60).map(
    lambda parts: "".join(w + s for w, s in parts)
) | st.text(max_size=200) | st.lists(st.sampled_from(ODD + WORDS), max_size=20).map(" ".join)
#: Text without lone surrogates (what a Document accepts).
clean_texts = texts.filter(lambda t: not any(0xD800 <= ord(c) <= 0xDFFF for c in t))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(
        ["id", "doc", "source", "article", "summary", "label", "n", "options", "threshold", "top_k", "x"]), children,
        max_size=5),
    max_leaves=12,
)
records = st.fixed_dictionaries(
    {"doc": texts}, optional={"id": texts | st.integers(), "summary": texts | st.lists(texts, max_size=4)}
) | json_values
#: One JSONL line's bytes: a JSON record, broken JSON, deep nesting or random bytes.
lines = (
    records.map(lambda r: json.dumps(r, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    | st.binary(max_size=200)
    | st.integers(1, 5000).map(lambda n: b"[" * n)
    | records.map(lambda r: json.dumps(r)[: max(1, len(json.dumps(r)) // 2)].encode())
)
request_bodies = records.map(lambda r: json.dumps(r, ensure_ascii=False).encode("utf-8", "surrogatepass")) | lines


def run_boundary(fn: Callable[[], Any]) -> Any:
    """Call ``fn``; a VerisumError is a fine answer, anything else propagates (the bug)."""
    from verisum.errors import VerisumError

    try:
        return fn()
    except VerisumError as exc:
        return exc
