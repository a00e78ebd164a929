"""The HTML view: one self-contained page, rendered on the server side, with no JavaScript.

Every piece of input text goes through :func:`html.escape` before it reaches the page, so an
article containing ``<script>`` shows it as text. Offsets are applied in Python (code points)
and become ``<span>``/``<mark>`` elements, so the browser never has to count characters
(JavaScript counts UTF-16 units, which would shift every offset after an emoji).

Each summary sentence links to its evidence in the article (``#src-START-END``); the
``:target`` style lights up the evidence you follow.
"""

from __future__ import annotations

from html import escape
from typing import Iterable, Sequence

from ..version import __version__
from ..verdicts import CheckResult
from . import LABEL_MARKS

__all__ = ["render_check_html", "mark_text"]

_CSS = """
:root { --ok: #1a7f37; --unsup: #9a6700; --contra: #cf222e; --fg: #1f2328; --muted: #59636e; }
* { box-sizing: border-box; }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
       max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.verdict { font-weight: 700; } .muted { color: var(--muted); font-size: .9rem; }
.supported { --c: var(--ok); } .unsupported { --c: var(--unsup); } .contradicted { --c: var(--contra); }
.label { color: var(--c); font-weight: 700; text-transform: uppercase; font-size: .85rem; }
.sentence { border-left: 4px solid var(--c); padding: .4rem .8rem; margin: .6rem 0; background: #f6f8fa; }
.sentence > p { margin: .2rem 0; }
.fault { text-decoration: underline wavy var(--contra); text-decoration-thickness: 2px;
         background: #ffebe9; color: inherit; }
.claim { margin: .3rem 0 .3rem 1rem; font-size: .95rem; }
.evidence { margin: .2rem 0 .2rem 1rem; font-size: .92rem; }
.evidence a { color: var(--fg); }
.source { white-space: pre-wrap; border: 1px solid #d1d9e0; padding: .8rem; border-radius: 6px; }
.ev { background: #fff8c5; }
.ev:target { background: #ffd33d; outline: 2px solid #9a6700; }
@media (max-width: 40rem) { body { padding: .5rem; } .claim, .evidence { margin-left: .4rem; } }
"""


def mark_text(text: str, base: int, spans: Iterable[tuple[int, int, str]]) -> str:
    """Escaped ``text`` (which starts at offset ``base``) with each ``(start, end, open_tag)``
    span wrapped in ``open_tag`` ... its closing tag. Overlapping spans are merged into the
    first; spans outside the text are clipped.
    """
    out: list[str] = []
    pos = 0
    for start, end, tag in sorted(spans, key=lambda s: (s[0], -s[1])):
        lo, hi = max(start - base, pos), min(end - base, len(text))
        if lo >= hi:
            continue
        name = tag[1:].split(None, 1)[0].rstrip(">")
        out.append(escape(text[pos:lo]))
        out.append(f"{tag}{escape(text[lo:hi])}</{name}>")
        pos = hi
    out.append(escape(text[pos:]))
    return "".join(out)


def _anchor(start: int, end: int) -> str:
    return f"src-{start}-{end}"


def _label(label: str, score: float) -> str:
    return (f'<span class="label">{escape(LABEL_MARKS.get(label, ""))} {escape(label)}</span> '
            f'<span class="muted">{score:.2f}</span>')


def _evidence_items(evidence: Sequence) -> str:
    items = []
    for ev in evidence:
        s, e = ev.span.start, ev.span.end
        items.append(
            f'<div class="evidence"><a href="#{_anchor(s, e)}">source[{s}:{e}]</a> '
            f'“{escape(ev.span.text)}” <span class="muted">({ev.score:.2f})</span></div>'
        )
    return "".join(items) or '<div class="evidence muted">no evidence found in the source</div>'


def render_check_html(result: CheckResult, *, title: str = "verisum check") -> str:
    """The whole page, as a string."""
    parts: list[str] = []
    n = len(result.sentences)
    bad = sum(1 for s in result.sentences if str(s.label) != "supported")
    label = str(result.label)
    parts.append(
        f'<header class="{escape(label)}"><h1>{escape(title)}</h1>'
        f'<p class="verdict">{_label(label, result.score)} — '
        f"{escape(f'{bad} of {n} summary sentences not supported' if bad else f'all {n} summary sentences supported')}"
        f' <span class="muted">(threshold {result.threshold:.2f})</span></p></header>'
    )
    parts.append("<main><h2>Summary</h2>")
    evidence_spans: dict[tuple[int, int], None] = {}
    for i, sv in enumerate(result.sentences):
        sl = str(sv.label)
        faults = [(f.start, f.end, '<mark class="fault">') for f in sv.faults]
        body = mark_text(sv.sentence.text, sv.sentence.start, faults)
        parts.append(
            f'<section class="sentence {escape(sl)}" id="sentence-{i}" '
            f'data-start="{sv.sentence.start}" data-end="{sv.sentence.end}">'
            f"<p>{_label(sl, sv.score)} {body}</p>"
        )
        several = len(sv.claims) > 1
        for cv in sv.claims:
            cl = str(cv.label)
            if several:
                parts.append(f'<div class="claim {escape(cl)}">claim {_label(cl, cv.score)} “{escape(cv.claim.text)}”</div>')
            if cv.faults:
                words = ", ".join(f"“{escape(f.text)}”" for f in cv.faults)
                parts.append(f'<div class="evidence">at fault: {words}</div>')
            parts.append(_evidence_items(cv.evidence))
            if cv.truncated:
                parts.append('<div class="evidence muted">evidence was cut to fit the judge\'s input</div>')
            if cv.rationale and cl != "supported":
                parts.append(f'<div class="evidence muted">why: {escape(cv.rationale)}</div>')
            for ev in cv.evidence:
                evidence_spans[(ev.span.start, ev.span.end)] = None
        parts.append("</section>")
    source_marks = [(s, e, f'<mark class="ev" id="{_anchor(s, e)}">') for s, e in evidence_spans]
    parts.append('<h2>Article</h2><div class="source">')
    parts.append(mark_text(result.source.text, 0, source_marks))
    parts.append("</div></main>")
    judge = result.meta.get("judge", {}) if isinstance(result.meta, dict) else {}
    name = judge.get("judge") if isinstance(judge, dict) else None
    parts.append(f'<footer class="muted"><p>verisum {escape(__version__)}'
                 f"{escape(f' · judge: {name}') if name else ''} · offsets are code points into the texts</p></footer>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>\n<body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )
