"""Summary sentences -> claims.

A summary sentence often joins several claims: "Putin will meet Xi, highlighting the
importance of insulation" asserts the meeting AND the "highlighting" clause, and only the
second is invented. Claims are found by cutting a sentence before the connectives that start
a dependent clause (a participle or relative clause, "while"/"whereas", "including", a
semicolon, ", but"). The first piece is the main claim; every other claim is judged together
with the main claim (its ``context``) so that it reads as a stand-alone statement, but its
span (what gets marked) is the clause alone. Two refinements: an aside set off by commas in
the middle of the main clause ("the G7 leaders, including Turkey, are attending") stays in
the main claim, so no fragment is judged; and a sentence that opens with a discourse link
("Despite X, Y") gives the link its own claim, judged as the whole "Despite X, Y" and marked
on "Despite X", while Y is the main claim. Every claim is a :class:`Span` of the summary
:class:`Document`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .document import Document, Span

__all__ = ["Claim", "split_claims", "summary_claims"]

# Clause starts, each preceded by a comma or a semicolon; the cut falls before the connective.
_CUT_RE = re.compile(
    r"""(?:
        ,\s+(?=(?:which|who|whom|whose|where|while|whereas|although|though|including|
                  as\ well\ as|but|amid|despite|after\ which|prompting|sparking|making|marking|
                  highlighting|underlining|underscoring|stressing|emphasi[sz]ing|signalling|signaling|
                  saying|stating|adding|noting|claiming|citing|calling|leaving|raising|bringing|
                  reflecting|suggesting|indicating|showing|demonstrating|pointing|urging|
                  according\ to|in\ a\ bid|in\ an\ effort|a\ move)\b)
      | ,\s+(?=(?!(?:during|nothing|something|anything|everything|morning|evening|king|thing|spring|
                  string|ring|wing|building|ceiling|meeting|wedding|funding|training|clothing|
                  housing|according|notwithstanding)\b)[a-z]{2,}ing\b\s+\w)  # any other participle
      | ;\s+
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_MIN_CLAIM_WORDS = 3
_WORD_RE = re.compile(r"\w")
# A sentence that opens with a discourse link ("Despite X, Y"): the link and its clause are a
# claim of their own (judged as "Despite X, Y", marked on "Despite X"), Y is the main claim.
_LEAD_RE = re.compile(
    r"""^(?:despite|in\ spite\ of|although|though|even\ though|while|whereas|because|since|due\ to|
          thanks\ to|as\ a\ result\ of|following|after|amid|ahead\ of|unlike|like)\b[^,;]{3,}?,\s+""",
    re.VERBOSE | re.IGNORECASE,
)
# Pieces that may sit in the middle of the main clause, set off by commas:
# "none of the G7 leaders, including Turkey, are attending" -> not a claim of their own.
_NESTABLE_RE = re.compile(r"^(?:including|who|which|whose|whom|as\ well\ as)\b", re.VERBOSE | re.IGNORECASE)
# A main clause that resumes after the nested piece starts with a verb.
_RESUME_RE = re.compile(
    r",\s+(?:is|are|was|were|has|have|had|will|would|can|could|may|might|must|should|shall|do|does|did|"
    r"remain|remains|remained|say|says|said|told|[a-z]+ed)\b"
)


@dataclass(frozen=True, slots=True)
class Claim:
    """A claim of a summary sentence. ``span`` is what gets marked; ``hypothesis`` is judged."""

    span: Span
    sentence: Span
    context: Span | None = None  # the main claim, for a dependent clause

    @property
    def text(self) -> str:
        return self.span.text

    @property
    def hypothesis(self) -> str:
        """The claim as a stand-alone statement, as the judge sees it."""
        if self.context is None:
            return self.span.text
        if self.span.start < self.context.start:  # a leading discourse clause: "Despite X, Y"
            return f"{self.span.text}, {self.context.text}"
        main = self.context.text.rstrip(" ,;:")
        return f"{main}, {self.span.text}"


def _trim(doc: Document, start: int, end: int) -> tuple[int, int]:
    text = doc.text
    while start < end and (text[start].isspace() or text[start] in ",;"):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _n_words(doc: Document, s: int, e: int) -> int:
    return len(re.findall(r"\w+", doc.text[s:e]))


def split_claims(sentence: Span) -> tuple[Claim, ...]:
    """The claims of one summary sentence, in text order; they never overlap."""
    doc, text = sentence.doc, sentence.text
    lead_end = 0
    m = _LEAD_RE.match(text)
    if m and _n_words(doc, sentence.start + m.end(), sentence.end) >= _MIN_CLAIM_WORDS:
        lead_end = m.end()
    cuts = [m.start() for m in _CUT_RE.finditer(text) if m.start() > lead_end]
    bounds = [lead_end, *cuts, len(text)]
    pieces: list[tuple[int, int]] = []
    for lo, hi in zip(bounds, bounds[1:]):
        s, e = _trim(doc, sentence.start + lo, sentence.start + hi)
        if s >= e:
            continue
        if pieces and _n_words(doc, s, e) < _MIN_CLAIM_WORDS:
            pieces[-1] = (pieces[-1][0], e)  # too short to stand alone: keep with the previous
            continue
        if len(pieces) == 1 and _NESTABLE_RE.match(doc.text[s:e]):
            resume = _RESUME_RE.search(doc.text, s, e)
            if resume:  # a nested aside: the main clause goes on after it
                pieces[-1] = (pieces[-1][0], e)
                continue
        pieces.append((s, e))
    if len(pieces) > 1 and _n_words(doc, *pieces[0]) < _MIN_CLAIM_WORDS:
        pieces[0:2] = [(pieces[0][0], pieces[1][1])]
    main = Span(doc, *pieces[0])
    claims = [Claim(span=main, sentence=sentence)]
    if lead_end:
        s, e = _trim(doc, sentence.start, sentence.start + lead_end)
        e = s + len(doc.text[s:e].rstrip(" ,"))
        claims.insert(0, Claim(span=Span(doc, s, e), sentence=sentence, context=main))
    claims += [Claim(span=Span(doc, s, e), sentence=sentence, context=main) for s, e in pieces[1:]]
    return tuple(claims)


def summary_claims(summary: Document) -> tuple[tuple[Span, tuple[Claim, ...]], ...]:
    """Each summary sentence with its claims; a "sentence" without any word (";", "!", "-")
    states nothing and is left out."""
    return tuple((s, split_claims(s)) for s in summary.sentences if _WORD_RE.search(s.text))
