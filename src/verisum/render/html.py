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

from ..schema import CheckResultModel, EvidenceModel
from ..version import __version__
from ..verdicts import CheckResult
from . import LABEL_MARKS, notes

__all__ = ["render_check_html", "mark_text", "verdict_line", "summary_sections", "source_html", "CHECK_CSS"]

CHECK_CSS = """
:root { --ok: #1a7f37; --unsup: #9a6700; --contra: #cf222e; --fg: #1f2328; --muted: #59636e; }
* { box-sizing: border-box; }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
       max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.verdict { font-weight: 700; } .muted { color: var(--muted); font-size: .9rem; }
.note { border-left: 3px solid var(--unsup); padding-left: .5rem; }
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


def _anchor(start: int, end: int, prefix: str = "src") -> str:
    return f"{prefix}-{start}-{end}"


def _label(label: str, score: float) -> str:
    return (f'<span class="label">{escape(LABEL_MARKS.get(label, ""))} {escape(label)}</span> '
            f'<span class="muted">{score:.2f}</span>')


def _evidence_items(evidence: Sequence[EvidenceModel], prefix: str = "src") -> str:
    items = []
    for ev in evidence:
        s, e = ev.start, ev.end
        items.append(
            f'<div class="evidence"><a href="#{_anchor(s, e, prefix)}">source[{s}:{e}]</a> '
            f'“{escape(ev.text)}” <span class="muted">({ev.score:.2f})</span></div>'
        )
    return "".join(items) or '<div class="evidence muted">no evidence found in the source</div>'


def verdict_line(result: CheckResultModel) -> str:
    """The summary's label and score, how many sentences are not supported, and the threshold."""
    n = len(result.sentences)
    bad = sum(1 for s in result.sentences if s.label != "supported")
    return (f"{_label(result.label, result.score)} — "
            f"{escape(f'{bad} of {n} summary sentences not supported' if bad else f'all {n} summary sentences supported')}"
            f' <span class="muted">(threshold {result.threshold:.2f})</span>')


def summary_sections(result: CheckResultModel, *, prefix: str = "src", id_prefix: str = "sentence") -> str:
    """One ``<section>`` per summary sentence: coloured by verdict, the words at fault marked,
    each claim with its evidence linked to ``#PREFIX-START-END`` in the source."""
    parts: list[str] = []
    for i, sv in enumerate(result.sentences):
        sl = sv.label
        seen: dict[tuple[int, int], None] = {}
        for cv in sv.claims:
            for f in cv.faults:
                seen.setdefault((f.start, f.end), None)
        faults = [(a, b, '<mark class="fault">') for a, b in sorted(seen)]
        body = mark_text(sv.text, sv.start, faults)
        parts.append(
            f'<section class="sentence {escape(sl)}" id="{escape(id_prefix)}-{i}" '
            f'data-start="{sv.start}" data-end="{sv.end}">'
            f"<p>{_label(sl, sv.score)} {body}</p>"
        )
        several = len(sv.claims) > 1
        for cv in sv.claims:
            cl = cv.label
            if several:
                parts.append(f'<div class="claim {escape(cl)}">claim {_label(cl, cv.score)} “{escape(cv.text)}”</div>')
            if cv.faults:
                words = ", ".join(f"“{escape(f.text)}”" for f in cv.faults)
                parts.append(f'<div class="evidence">at fault: {words}</div>')
            parts.append(_evidence_items(cv.evidence, prefix))
            if cv.truncated:
                parts.append('<div class="evidence muted">evidence was cut to fit the judge\'s input</div>')
            if cv.rationale and cl != "supported":
                parts.append(f'<div class="evidence muted">why: {escape(cv.rationale)}</div>')
        parts.append("</section>")
    return "\n".join(parts)


def source_html(result: CheckResultModel, *, prefix: str = "src") -> str:
    """The source text with every evidence sentence marked and anchored (``PREFIX-START-END``)."""
    spans: dict[tuple[int, int], None] = {}
    for sv in result.sentences:
        for cv in sv.claims:
            for ev in cv.evidence:
                spans[(ev.start, ev.end)] = None
    marks = [(s, e, f'<mark class="ev" id="{_anchor(s, e, prefix)}">') for s, e in spans]
    return mark_text(result.source, 0, marks)


def render_check_html(result: CheckResult | CheckResultModel, *, title: str = "verisum check") -> str:
    """The whole page, as a string (from a result or its JSON model: the page shows what the JSON says)."""
    model = result if isinstance(result, CheckResultModel) else CheckResultModel.from_result(result)
    parts: list[str] = []
    parts.append(f'<header class="{escape(model.label)}"><h1>{escape(title)}</h1>'
                 f'<p class="verdict">{verdict_line(model)}</p></header>')
    parts.append("<main>")
    parts.extend(f'<p class="note">{escape(note)}</p>' for note in notes(model.meta))
    parts.append("<h2>Summary</h2>")
    parts.append(summary_sections(model))
    parts.append('<h2>Article</h2><div class="source">')
    parts.append(source_html(model))
    parts.append("</div></main>")
    judge = model.meta.get("judge", {})
    name = judge.get("judge") if isinstance(judge, dict) else None
    parts.append(f'<footer class="muted"><p>verisum {escape(__version__)}'
                 f"{escape(f' · judge: {name}') if name else ''} · offsets are code points into the texts</p></footer>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{escape(title)}</title><style>{CHECK_CSS}</style></head>\n<body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )
