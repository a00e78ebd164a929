"""The shared data model: one text, many views (after spaCy's ``Doc``/``Span``).

A :class:`Document` owns the decoded text exactly as the user gave it; it is never stripped,
normalised or re-joined. Sentences, words, claims, evidence and faults are :class:`Span`
views ``(doc, start, end)`` whose ``text`` is always ``doc.text[start:end]``. Offsets are
Python ``str`` indices (Unicode code points) into ``Document.text``.

Sentence rule: a line break always ends a sentence (titles and bullets carry no full stop);
inside a line, a sentence ends at ``.``, ``!`` or ``?`` (plus closing quotes/brackets) that is
followed by white space, unless the word before the stop is a known abbreviation or a single
letter (an initial). A leading bullet marker (``- ``, ``* ``, ``• ``) is not part of a sentence.
Sentences never overlap, come in text order, and only white space and bullet markers lie
between them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator, Literal, Sequence

from .errors import BadEncoding

__all__ = ["Document", "Span", "join_bullets", "split_sentences", "is_hard_wrapped", "BULLET_RE", "PHOTO_POINTER_RE",
           "MAX_SENTENCE_CHARS"]

#: A bullet marker at the start of a line (after optional indentation).
BULLET_RE = re.compile(r"[ \t]*(?:[-*•·–]|\d{1,2}[.)])[ \t]+")

#: A photo caption's pointer, "(pictured)", "(left)", "(shown above)": it points at a picture
#: and states nothing, so a sentence says the same without it.
PHOTO_POINTER_RE = re.compile(
    r"\s*\((?:pictured|picture|shown|left|right|centre|center|above|below|top|bottom|inset|file photo)"
    r"(?:\s+(?:left|right|above|below|centre|center|top|bottom|with \w+|in \d{4}))*\)",
    re.IGNORECASE,
)

def join_bullets(bullets: "Sequence[str]") -> str:
    """A list of bullets as one summary text, a ``- `` line each (a bullet that already starts
    with a marker keeps it); offsets into the summary refer to this text."""
    return "\n".join(f"- {b.strip()}" if not b.lstrip().startswith(("- ", "* ", "• ")) else b for b in bullets)


_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt ft gen lt col sgt capt cmdr adm gov sen rep rev hon pres
    supt insp det cpl pvt maj brig messrs mme mlle
    inc ltd co corp bros plc llc dept univ assn est vol fig no nos op ed eds
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    vs v etc al approx ca cf ie eg e.g i.e u.s u.k u.n u.s.a e.u a.m p.m d.c n.y l.a
    ave blvd rd hwy""".split()
)

# End of a sentence candidate: terminal punctuation, optional closers, then white space.
_STOP_RE = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)")
_WORD_BEFORE_RE = re.compile(r"([\w.]+)[.!?]*[\"'”’)\]]*$")
# A number with thousands separators or decimals ("4,200", "3.5") is one word.
_WORD_RE = re.compile(r"\d+(?:[.,]\d+)+|\w+(?:[-'’.&]\w+)*")


@dataclass(frozen=True, slots=True, eq=False)
class Span:
    """A view ``doc.text[start:end]``; the document is the only owner of the text."""

    doc: "Document"
    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start <= self.end <= len(self.doc.text)):
            raise ValueError(
                f"span [{self.start}, {self.end}) is outside the document (length {len(self.doc.text)})"
            )

    @property
    def text(self) -> str:
        return self.doc.text[self.start : self.end]

    def __len__(self) -> int:
        return self.end - self.start

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Span)
            and other.doc is self.doc
            and other.start == self.start
            and other.end == self.end
        )

    def __hash__(self) -> int:
        return hash((id(self.doc), self.start, self.end))

    def __repr__(self) -> str:
        return f"Span({self.start}, {self.end}, {self.text!r})"

    @property
    def words(self) -> tuple["Span", ...]:
        """Word tokens inside this span."""
        return tuple(w for w in self.doc.words if w.start >= self.start and w.end <= self.end)

    def contains(self, other: "Span") -> bool:
        return other.doc is self.doc and self.start <= other.start and other.end <= self.end

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(eq=False)
class Document:
    """A text and its views. ``text`` is kept exactly as given."""

    text: str
    id: str | None = None
    _sentences: tuple[Span, ...] | None = field(default=None, repr=False)
    _long_sentences: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError(f"Document text must be str, not {type(self.text).__name__}")
        if not self.text.isascii():
            try:
                self.text.encode("utf-8")
            except UnicodeEncodeError as exc:
                # A lone surrogate (from a "\ud800" JSON escape or a bad decode) is not a character:
                # refused here, where text enters, so no tokenizer or renderer meets it.
                raise BadEncoding(
                    f"the text holds an unpaired surrogate (U+{ord(self.text[exc.start]):04X} at offset "
                    f"{exc.start}), which is not a character; fix the encoding of the input"
                ) from None

    def __len__(self) -> int:
        return len(self.text)

    def span(self, start: int, end: int) -> Span:
        return Span(self, start, end)

    def char_span(
        self,
        start: int,
        end: int,
        alignment_mode: Literal["strict", "contract", "expand"] = "strict",
    ) -> Span:
        """A span from character offsets, aligned to word boundaries.

        ``strict`` raises ``ValueError`` unless both ends fall on word boundaries;
        ``contract`` shrinks to the words fully inside; ``expand`` grows to cover every word
        touched. Unlike spaCy's ``char_span`` this never returns ``None``.
        """
        if not (0 <= start <= end <= len(self.text)):
            raise ValueError(f"offsets [{start}, {end}) are outside the text (length {len(self.text)})")
        inside = [w for w in self.words if w.end > start and w.start < end]
        if not inside:
            if alignment_mode == "strict" and self.text[start:end].strip():
                raise ValueError(f"offsets [{start}, {end}) do not cover a whole word")
            return Span(self, start, end)
        if alignment_mode == "expand":
            return Span(self, min(start, inside[0].start), max(end, inside[-1].end))
        whole = [w for w in inside if w.start >= start and w.end <= end]
        if alignment_mode == "contract":
            if not whole:
                return Span(self, start, start)
            return Span(self, whole[0].start, whole[-1].end)
        if inside[0].start < start or inside[-1].end > end:
            raise ValueError(
                f"offsets [{start}, {end}) cut through a word; use alignment_mode='expand' or 'contract'"
            )
        return Span(self, start, end)

    @property
    def sentences(self) -> tuple[Span, ...]:
        if self._sentences is None:
            bounds, self._long_sentences = split_sentences_counted(self.text)
            self._sentences = tuple(Span(self, s, e) for s, e in bounds)
        return self._sentences

    @property
    def long_sentences(self) -> int:
        """How many sentences were longer than MAX_SENTENCE_CHARS and were cut into pieces."""
        _ = self.sentences  # splitting counts them
        return self._long_sentences

    @cached_property
    def is_transcript(self) -> bool:
        """Whether the text reads as a transcript or chat: a speaker label that opens a turn
        ("Lola: ...", "Industrial Designer: ...", at a line start or after a sentence's stop)
        opens at least :data:`TURN_LABEL_MIN` turns and :data:`TRANSCRIPT_SHARE` of the sentences
        (counting speakers who speak more than once), or a bracketed one ("[doctor]") recurs.
        The judge was trained on prose and reads summaries of such sources much worse (README,
        "What to expect")."""
        if "[" in self.text and _turn_labels(self.text):
            return True
        from collections import Counter

        counts = Counter(m.group(1) for m in _SPEAKER_RE.finditer(self.text))
        turns = sum(n for n in counts.values() if n >= 2)  # a speaker speaks more than once
        return turns >= TURN_LABEL_MIN and turns >= TRANSCRIPT_SHARE * len(self.sentences)

    @cached_property
    def words(self) -> tuple[Span, ...]:
        return tuple(Span(self, m.start(), m.end()) for m in _WORD_RE.finditer(self.text))

    def sentence_of(self, offset: int) -> Span | None:
        """The sentence containing character ``offset``, if any."""
        for s in self.sentences:
            if s.start <= offset < s.end:
                return s
        return None


def text_lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line's content, without its line terminator."""
    pos = 0
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\r\n\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85")
        yield pos, pos + len(content)
        pos += len(line)


def _is_abbreviation(line: str, stop_at: int) -> bool:
    """Whether the full stop at ``stop_at`` closes an abbreviation or an initial."""
    m = _WORD_BEFORE_RE.search(line, max(0, stop_at - 64), stop_at + 1)  # a window: linear, not quadratic
    if not m:
        return False
    word = m.group(1).rstrip(".").lower()
    if not word:
        return False
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. Smith"
    return word in _ABBREVIATIONS or word.replace(".", "") in _ABBREVIATIONS


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence boundaries as ``(start, end)`` code-point offsets into ``text``."""
    return split_sentences_counted(text)[0]


#: A bracketed label ("[doctor]", "[patient]", "[speaker 2]") that opens a turn of a transcript.
_TAG_RE = re.compile(r"\[([A-Za-z][\w\- ]{0,24})\]")
#: A label is a turn marker when it occurs at least this often in the text (a transcript's
#: speakers recur; a news article's "[sic]" or "[the president]" does not).
TURN_LABEL_MIN = 3


#: A turn that opens with a speaker's name (up to three capitalised words and a colon), at the
#: start of a line or after a sentence's stop: "Ann: Buy butter. . Mike: Ok." (SAMSum's chats).
#: A speaker's name as it opens a turn: up to three capitalised words.
_SPEAKER_NAME = r"[A-Z][\w'\-]*(?: [A-Z][\w'\-]*){0,2}"
_SPEAKER_RE = re.compile(rf"(?:^|[.!?]\s+|\n)[ \t]*({_SPEAKER_NAME}):[ \t]", re.MULTILINE)
#: The share of a text's sentences that must open a speaker's turn for it to read as a transcript
#: (a web page's "Review:" or "Released:" fields, an article quoting one name thrice, do not).
TRANSCRIPT_SHARE = 0.3


#: Hard-wrapped text (a bill, a paper's abstract, a plain-text e-mail) breaks its lines at a fixed
#: width, mid-sentence: 90% of its lines are at most this many characters long ...
WRAP_WIDTH_MAX = 100
#: ... at least this share of them run on into the next line ...
WRAP_SHARE = 0.3
#: ... at least this many of them (a summary's few lines without stops are not enough) ...
WRAP_MIN_LINES = 5
#: ... at least this share of those continue in lower case (a list of captions or headlines,
#: one a line without a stop, opens each line with a capital) ...
WRAP_LOWER_SHARE = 0.3
#: ... and at least this share of them break after a function word or a comma: a break at a fixed
#: width falls anywhere in a sentence, where a line that is a whole sentence ends on a content word.
WRAP_FUNCTION_SHARE = 0.25
#: A line that stops mid-sentence ends with a word or a comma.
_RUNS_ON_RE = re.compile(r"[\w,]$")
#: A line that opens a turn of a transcript ("[doctor] ...", "Ann: ...") never continues another.
_TURN_START_RE = re.compile(rf"[ \t]*(?:{_TAG_RE.pattern}|{_SPEAKER_NAME}:[ \t])")


def _runs_on(line: str, following: str) -> bool:
    """Whether the break between ``line`` and the ``following`` line may fall inside a sentence."""
    return (len(line.strip()) >= 30 and _RUNS_ON_RE.search(line.rstrip()) is not None and bool(following.strip())
            and not BULLET_RE.match(following) and not _TURN_START_RE.match(following))


def _wrapped_breaks(text: str) -> tuple[list[tuple[int, int]], list[bool] | None]:
    """The lines of ``text`` (:func:`text_lines`), and, where ``text`` is hard-wrapped, whether each
    line runs on into the next (None where it is not): one pass for :func:`is_hard_wrapped` and
    the sentence splitter."""
    from .text import STOPWORDS

    lines = list(text_lines(text))
    contents = [text[lo:hi] for lo, hi in lines]
    lengths = sorted(len(line.rstrip()) for line in contents if line.strip())
    if len(lengths) <= WRAP_MIN_LINES or lengths[int(0.9 * (len(lengths) - 1))] > WRAP_WIDTH_MAX:
        return lines, None
    runs = [_runs_on(a, b) for a, b in zip(contents, contents[1:])]
    pairs = [(a.rstrip(), b.lstrip()) for a, b, run in zip(contents, contents[1:], runs) if run]
    if len(pairs) < max(WRAP_MIN_LINES, WRAP_SHARE * len(lengths)):
        return lines, None
    lower = sum(b[:1].islower() for _, b in pairs)
    function = sum(a.endswith(",") or a.rsplit(None, 1)[-1].lower() in STOPWORDS for a, _ in pairs)
    wrapped = lower >= WRAP_LOWER_SHARE * len(pairs) and function >= WRAP_FUNCTION_SHARE * len(pairs)
    return lines, runs if wrapped else None


def is_hard_wrapped(text: str) -> bool:
    """Whether ``text`` breaks its lines at a fixed width inside sentences (:data:`WRAP_WIDTH_MAX`
    and the thresholds after it), so that a line end is not a sentence's end: a bill, an abstract,
    a plain-text e-mail. A news article's title, a summary's bullets or lines without stops, a
    chat's turns and a list of captions are not."""
    return _wrapped_breaks(text)[1] is not None


def _text_blocks(text: str) -> list[tuple[int, int]]:
    """The lines of ``text`` (:func:`text_lines`), those of hard-wrapped text joined where a line
    runs on into the next (:func:`is_hard_wrapped`); a blank line still ends a block."""
    lines, runs = _wrapped_breaks(text)
    if runs is None:
        return lines
    blocks = [lines[0]]
    for (lo, hi), run in zip(lines[1:], runs):
        if run:
            blocks[-1] = (blocks[-1][0], hi)
        else:
            blocks.append((lo, hi))
    return blocks


def _turn_labels(text: str) -> frozenset[str]:
    from collections import Counter

    counts = Counter(m.group(1).lower() for m in _TAG_RE.finditer(text))
    return frozenset(label for label, n in counts.items() if n >= TURN_LABEL_MIN)


def split_sentences_counted(text: str) -> tuple[list[tuple[int, int]], int]:
    """:func:`split_sentences`, and how many over-long sentences had to be cut.

    Sentences end at a stop (not an abbreviation's), at a line end (where a hard-wrapped text's
    line runs on into the next, not there: :func:`is_hard_wrapped`), and before each turn of a
    transcript: a bracketed speaker label that recurs in the text ("[doctor] ... [patient] ...",
    often written without punctuation), so every turn is a unit of its own."""
    out: list[tuple[int, int]] = []
    cut_count = 0
    labels = _turn_labels(text) if "[" in text else frozenset()
    for lo, hi in _text_blocks(text):
        line = text[lo:hi]
        m = BULLET_RE.match(line)
        pos = m.end() if m else 0
        cuts = []
        for stop in _STOP_RE.finditer(line, pos):
            if line[stop.start()] == "." and stop.group().startswith(".") and len(stop.group().rstrip("\"'”’)]")) == 1:
                if _is_abbreviation(line, stop.start()):
                    continue
            cuts.append(stop.end())
        if labels:
            cuts.extend(t.start() for t in _TAG_RE.finditer(line, pos) if t.group(1).lower() in labels and t.start() > pos)
            cuts.sort()
        cuts.append(len(line))
        start = pos
        for cut in cuts:
            seg = line[start:cut]
            stripped = seg.strip()
            if stripped:
                s = start + (len(seg) - len(seg.lstrip()))
                e = s + len(stripped)
                pieces = list(_bounded(text, lo + s, lo + e))
                cut_count += len(pieces) > 1
                out.extend(pieces)
            start = cut
    return out, cut_count


#: A "sentence" longer than this (a text with no sentence breaks: a table, a dump) is cut at
#: white space into pieces of at most this many characters, so that no single sentence can make
#: the tokenizers and the judge hold megabytes; :func:`long_sentences` says how many were cut.
MAX_SENTENCE_CHARS = 2_000


def _bounded(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        cut = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, limit)
        cut = limit if cut < 0 else cut
        yield start, cut
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        yield start, end
