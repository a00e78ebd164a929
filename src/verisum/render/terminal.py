"""The terminal view (rich): each summary sentence with its verdict and score, the words at
fault marked, and the evidence quoted with its offsets into the source.

Input text is always wrapped in ``rich.text.Text`` (never parsed as console markup), so
"[bold]" in an article prints as typed. Colour is used only when the output is a terminal;
the words at fault are also listed in plain words, so the view reads without colour.
"""

from __future__ import annotations

from typing import IO, Sequence

from rich.console import Console
from rich.text import Text

from ..document import Span
from ..verdicts import CheckResult, SentenceVerdict
from . import LABEL_COLOURS, LABEL_MARKS, notes

__all__ = ["render_check", "check_text"]

_INDENT = "    "


def _label(label: str, score: float) -> Text:
    colour = LABEL_COLOURS.get(label, "white")
    return Text.assemble((f"{LABEL_MARKS.get(label, '')} {label.upper()}", f"bold {colour}"), f" {score:.2f}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


#: Evidence quotes longer than this are shortened in the terminal view (the offsets printed
#: beside them still cover the whole sentence; JSON and HTML carry the full text).
QUOTE_CHARS = 300


def _quote(text: str, limit: int = QUOTE_CHARS) -> str:
    if len(text) <= limit:
        return _one_line(text)
    head, tail = text[: limit * 2 // 3], text[-(limit // 4) :]
    return f"{_one_line(head)} … {_one_line(tail)}"


def _marked(span: Span, faults: Sequence[Span], colour: str) -> Text:
    """The span's text with the faults inside it underlined."""
    out = Text(span.text)
    for f in faults:
        lo, hi = max(f.start, span.start) - span.start, min(f.end, span.end) - span.start
        if lo < hi:
            out.stylize(f"bold underline {colour}", lo, hi)
    return out


def _shown_evidence(evidence: Sequence, *, supported: bool) -> Sequence:
    """The best evidence, plus (for a claim not supported) the others at least half as close.

    The full list is in --format json and html; the terminal keeps to what a reader needs.
    """
    if not evidence or supported:
        return evidence[:1]
    best = max(ev.score for ev in evidence)
    return [ev for i, ev in enumerate(evidence) if i == 0 or ev.score >= 0.5 * best]


def _sentence(sv: SentenceVerdict, result: CheckResult) -> list[Text]:
    label = str(sv.label)
    colour = LABEL_COLOURS.get(label, "white")
    lines = [Text.assemble(_label(label, sv.score), "  ", _marked(sv.sentence, sv.faults, colour))]
    several = len(sv.claims) > 1
    for cv in sv.claims:
        pad = _INDENT
        if several:
            lines.append(Text.assemble(pad, "claim ", _label(str(cv.label), cv.score), f"  “{_one_line(cv.claim.text)}”"))
            pad += "  "
        if cv.faults:
            words = ", ".join(f"“{f.text}”" for f in cv.faults)
            lines.append(Text.assemble(pad, ("at fault: ", "bold"), (words, colour)))
        for ev in _shown_evidence(cv.evidence, supported=str(cv.label) == "supported"):
            lines.append(Text.assemble(
                pad, (f"evidence source[{ev.span.start}:{ev.span.end}] ", "dim"),
                f"“{_quote(ev.span.text)}”", (f" ({ev.score:.2f})", "dim"),
            ))
        if not cv.evidence:
            lines.append(Text.assemble(pad, ("no evidence found in the source", "dim")))
        if cv.truncated:
            lines.append(Text.assemble(pad, ("evidence was cut to fit the judge's input", "yellow")))
        if cv.rationale and str(cv.label) != "supported":
            lines.append(Text.assemble(pad, ("why: ", "dim"), _one_line(cv.rationale)))
    return lines


def check_text(result: CheckResult) -> list[Text]:
    n = len(result.sentences)
    bad = sum(1 for s in result.sentences if str(s.label) != "supported")
    if n == 1:
        head = "the summary sentence is supported" if not bad else "the summary sentence is not supported"
    else:
        head = f"all {n} summary sentences supported" if not bad else f"{bad} of {n} summary sentences not supported"
    title = Text.assemble(
        ("verisum: ", "bold"), _label(str(result.label), result.score),
        f"  {head} (threshold {result.threshold:.2f})",
    )
    if result.id is not None:
        title.append(f"  id={result.id}", "dim")
    lines = [title, Text("")]
    for sv in result.sentences:
        lines.extend(_sentence(sv, result))
        lines.append(Text(""))
    for note in notes(result.meta):
        lines.append(Text(f"note: {note}", "yellow"))
    judge = result.meta.get("judge", {}) if isinstance(result.meta, dict) else {}
    if isinstance(judge, dict) and judge.get("judge"):
        lines.append(Text(f"judge: {judge['judge']}", "dim"))
    return lines


def render_check(result: CheckResult, file: IO[str], *, width: int | None = None, colour: bool | None = None) -> None:
    """Print the terminal view to ``file``; colour only when ``file`` is a terminal (or ``colour``)."""
    console = Console(
        file=file, width=width or (None if file.isatty() else 100), highlight=False, markup=False, emoji=False,
        force_terminal=colour, no_color=(colour is False) or None, soft_wrap=not file.isatty(),
    )
    for line in check_text(result):
        console.print(line)
