"""The report as one self-contained HTML page.

Everything is inline: styles, the vendored chart library (Vega, Vega-Lite, vega-embed and
vega-interpreter; ``static/README.md`` says which versions and why), and each chart's
Vega-Lite spec as a JSON island. The page's Content-Security-Policy allows inline scripts and
styles and nothing else: no request can leave it, and Vega's expressions run through
vega-interpreter, so the page needs no ``eval``. Every figure is also a table, written on the
server side, so the numbers read without JavaScript, with a screen reader, and copy-paste.

The worst summaries are rendered by the check page's own functions
(:mod:`verisum.render.html`), each with its anchors prefixed so that evidence links stay
inside their own summary.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any, Iterable, Sequence

from ..render.html import CHECK_CSS, source_html, summary_sections, verdict_line
from ..resources import REPORT_STATIC_DIR
from ..schema import GroupTableModel, Interval, LabelledModel, ReportModel
from .charts import (
    VERDICT_COLOURS,
    group_chart,
    histogram_chart,
    reliability_chart,
    roc_chart,
    threshold_chart,
    types_chart,
    words_chart,
)

__all__ = ["render_report_html", "VENDORED_SCRIPTS", "MAX_SOURCE_CHARS"]

#: Inlined in this order (vega-embed needs vega and vega-lite as globals).
VENDORED_SCRIPTS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "vega-interpreter.min.js")
#: A worst summary's source longer than this is not printed whole (its evidence quotes still are).
MAX_SOURCE_CHARS = 100_000

_CSS = """
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .4rem 1rem; padding: 0; margin: .5rem 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr)); gap: .6rem; margin: .6rem 0; }
.card { border: 1px solid #d1d9e0; border-radius: 6px; padding: .5rem .7rem; }
.card dt { font-size: .85rem; color: var(--muted); } .card dd { margin: 0; font-size: 1.35rem; font-weight: 700; }
.card dd small { font-size: .8rem; font-weight: 400; color: var(--muted); display: block; }
.chart { width: 100%; min-height: 2rem; margin: .4rem 0; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: .9rem; margin: .3rem 0 1rem; }
th, td { border-bottom: 1px solid #d1d9e0; padding: .2rem .5rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
caption { text-align: left; color: var(--muted); font-size: .85rem; caption-side: bottom; }
details > summary { cursor: pointer; color: #0969da; margin: .3rem 0; }
.worst { border-top: 2px solid #d1d9e0; margin-top: 1.2rem; padding-top: .4rem; }
.worst h3 { font-size: 1rem; margin: .3rem 0; overflow-wrap: anywhere; }
.warn { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: .4rem .7rem; }
a:focus, summary:focus, .vega-embed summary:focus { outline: 2px solid #0969da; outline-offset: 2px; }
code { overflow-wrap: anywhere; }
"""

_SCRIPT = """
(function () {
  // logLevel Error: Vega-Lite warns that a container-wide chart with one row per value cannot
  // also fit the height, which is what is meant
  var opts = {renderer: "svg", ast: true, expr: vegaInterpreter.expressionInterpreter, logLevel: vega.Error,
              actions: {export: true, source: false, compiled: false, editor: false}};
  var islands = document.querySelectorAll("script[type='application/json'][data-chart]");
  var jobs = Array.prototype.map.call(islands, function (el) {
    var target = document.getElementById(el.getAttribute("data-chart"));
    return vegaEmbed(target, JSON.parse(el.textContent), opts).then(function () {
      target.setAttribute("data-rendered", "true");
    }).catch(function (err) {
      target.textContent = "This chart could not be drawn (" + err + "); its table is below.";
    });
  });
  Promise.all(jobs).then(function () { document.body.setAttribute("data-charts", "done"); });
})();
"""


def _vendored() -> str:
    return "\n".join((REPORT_STATIC_DIR / name).read_text(encoding="utf-8") for name in VENDORED_SCRIPTS)


def _json_island(chart_id: str, spec: dict[str, Any]) -> str:
    # "<" escaped as \\u003c: no text of the data can close the script element
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return f'<script type="application/json" data-chart="{escape(chart_id)}">{text}</script>'


def _pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{100 * x:.{digits}f}"


def _interval(iv: Interval) -> str:
    if iv.share is None:
        return "–"
    return f"{_pct(iv.share)}% <span class=\"muted\">[{_pct(iv.low)}–{_pct(iv.high)}]</span>"


def _n(x: int) -> str:
    return f"{x:,}"


def _table(headers: Sequence[tuple[str, bool]], rows: Iterable[Sequence[str]], caption: str = "") -> str:
    """A table; cells are HTML already escaped by the caller; ``headers`` are (name, numeric)."""
    head = "".join(f'<th scope="col"{" class=num" if num else ""}>{escape(h)}</th>' for h, num in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            num = headers[i][1]
            tag = "th scope=\"row\"" if i == 0 else "td"
            cells.append(f"<{tag}{' class=num' if num and i else ''}>{cell}</{tag.split()[0]}>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f'<div class="table-wrap"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


class _Charts:
    """Numbers the charts of a page and collects their JSON islands."""

    def __init__(self) -> None:
        self.islands: list[str] = []

    def place(self, spec: dict[str, Any] | None, label: str) -> str:
        if spec is None:
            return ""
        chart_id = f"chart-{len(self.islands) + 1}"
        self.islands.append(_json_island(chart_id, spec))
        return f'<div class="chart" id="{chart_id}" role="img" aria-label="{escape(label)}"></div>'


def _headline(r: ReportModel) -> str:
    h = r.headline
    claims = h.claims_by_verdict
    n_claims = sum(claims.values())
    cards = [
        ("summaries with a verdict", _n(h.results), ""),
        ("flagged", f"{_pct(h.flagged.share)}%" if h.flagged.share is not None else "–",
         f"{_n(h.flagged.count)} of {_n(h.flagged.of)}; 95% [{_pct(h.flagged.low)}–{_pct(h.flagged.high)}]"
         if h.flagged.share is not None else ""),
        ("claims", _n(n_claims),
         " · ".join(f"{_n(claims[v])} {v}" for v in ("supported", "unsupported", "contradicted")) if n_claims else
         "no claims in these results"),
        ("could not be checked", _n(h.errors), "error rows"),
        ("unreadable lines", _n(h.unreadable), "neither a result nor an error row"),
    ]
    html = ['<dl class="cards">']
    for title, value, small in cards:
        html.append(f'<div class="card"><dt>{escape(title)}</dt><dd>{value}'
                    f'{f"<small>{small}</small>" if small else ""}</dd></div>')
    html.append("</dl>")
    known = [t for t in h.thresholds if t.threshold is not None]
    if h.mixed_thresholds:
        items = "; ".join(f"{t.threshold:.4f} ({_n(t.results)} results: {escape(', '.join(t.files[:3]))}"
                          f"{' …' if len(t.files) > 3 else ''})" for t in known)
        html.append(f'<p class="warn" id="mixed-thresholds"><strong>Mixed thresholds.</strong> These results were '
                    f"flagged at different thresholds: {items}. Each summary is counted at its own threshold; the "
                    "shares above mix them, so compare groups of one threshold.</p>")
    elif known:
        html.append(f'<p>Threshold <strong>{known[0].threshold:.4f}</strong>: a claim is supported when its score '
                    "reaches it; a summary is flagged when any sentence is not supported.</p>")
    if any(t.threshold is None for t in h.thresholds):
        html.append('<p class="muted">Some results (eval --predictions) do not record their threshold; they are '
                    "counted as their label says.</p>")
    if h.duplicate_ids:
        html.append(f'<p class="warn">{_n(h.duplicate_ids)} results repeat an id seen earlier in the input '
                    "(a resumed or repeated run?); every line is counted.</p>")
    return "\n".join(html)


def _group_section(t: GroupTableModel, charts_: _Charts, labelled: bool) -> str:
    fid = f"by-{t.field}"
    parts = [f'<section id="{escape(fid)}" aria-labelledby="{escape(fid)}-h"><h2 id="{escape(fid)}-h">By '
             f"{escape(t.field)}</h2>",
             f'<p class="muted">Share of summaries flagged per {escape(t.field)}, highest first, with 95% Wilson '
             "intervals; claim shares are of all the group's claims.</p>",
             charts_.place(group_chart(t), f"Bar chart: summaries flagged per {t.field}, highest first")]
    headers = [(t.field, False), ("summaries", True), ("flagged", True), ("claims unsupported", True),
               ("claims contradicted", True), ("mean score", True), ("errors", True)]
    if labelled:
        headers.insert(6, ("ROC AUC", True))
    rows = []
    for g in t.groups:
        row = [escape(g.value), _n(g.summaries), _interval(g.flagged), _interval(g.unsupported_claims),
               _interval(g.contradicted_claims), "–" if g.mean_score is None else f"{g.mean_score:.3f}", _n(g.errors)]
        if labelled:
            row.insert(6, "–" if g.auc is None else f"{g.auc:.3f}")
        rows.append(row)
    parts.append(_table(headers, rows, f"{len(t.groups)} values of {t.field}"
                        + (f"; {t.missing:,} results without it" if t.missing else "")))
    parts.append("</section>")
    return "\n".join(parts)


def _scores_section(r: ReportModel, charts_: _Charts) -> str:
    if not r.histogram:
        return ""
    verdicts = [v for v in VERDICT_COLOURS if any(b.verdict == v for b in r.histogram)]
    bins: dict[tuple[float, float], dict[str, int]] = {}
    for b in r.histogram:
        bins.setdefault((b.low, b.high), {})[b.verdict] = b.count
    rows = [[f"{lo:.2f}–{hi:.2f}", *(_n(c.get(v, 0)) for v in verdicts)] for (lo, hi), c in sorted(bins.items())]
    return "\n".join([
        '<section id="scores" aria-labelledby="scores-h"><h2 id="scores-h">Scores</h2>',
        '<p class="muted">Each summary\'s weakest claim score, the one the threshold decides on (a summary is '
        "flagged when it is below), by verdict; the dashed line is the threshold in use"
        + (", and the one verisum calibrate would pick" if r.labelled and r.labelled.calibrated_threshold
           is not None else "") + ".</p>",
        charts_.place(histogram_chart(r), "Histogram of summary scores, stacked by verdict"),
        "<details><summary>Scores as a table</summary>",
        _table([("weakest claim score", False), *((v, True) for v in verdicts)], rows),
        "</details></section>",
    ])


def _labelled_section(lab: LabelledModel, charts_: _Charts) -> str:
    facts = [f"<strong>ROC AUC {lab.auc:.3f}</strong>" if lab.auc is not None else "ROC AUC –",
             f"over {_n(lab.n)} summaries with a human label ({_n(lab.faithful)} faithful, {_n(lab.unfaithful)} not)"]
    more = []
    if lab.balanced_accuracy is not None:
        more.append(f"balanced accuracy of the verdicts as given {_pct(lab.balanced_accuracy)}")
    if lab.calibrated_threshold is not None:
        more.append(f"<span id=\"calibrated-threshold\">verisum calibrate would pick threshold "
                    f"{lab.calibrated_threshold:.4f}</span> (balanced accuracy {_pct(lab.calibrated_balanced_accuracy)})")
    if lab.expected_calibration_error is not None:
        more.append(f"expected calibration error {lab.expected_calibration_error:.3f}")
    step = max(1, len(lab.roc) // 20)
    roc_rows = [[f"{p.threshold:.4f}", f"{p.fpr:.3f}", f"{p.tpr:.3f}"] for p in lab.roc[::step]]
    thr_rows = [[f"{p.threshold:.2f}", "–" if p.flag_precision is None else f"{p.flag_precision:.3f}",
                 f"{p.flag_recall:.3f}", f"{p.faithful_passed:.3f}"] for p in lab.thresholds if round(p.threshold * 100) % 5 == 0]
    rel_rows = [[f"{b.low:.1f}–{b.high:.1f}", _n(b.n), f"{b.mean_score:.3f}", f"{b.faithful_share:.3f}"]
                for b in lab.reliability]
    return "\n".join([
        '<section id="labels" aria-labelledby="labels-h"><h2 id="labels-h">Against human labels</h2>',
        f'<p id="auc">{" ".join(facts)}; {"; ".join(more)}.</p>',
        "<h3>ROC curve</h3>",
        '<p class="muted">Of the summary score (the mean of its sentence scores), as verisum eval ranks.</p>',
        charts_.place(roc_chart(lab), "ROC curve of the summary score"),
        "<details><summary>ROC curve as a table</summary>",
        _table([("threshold", False), ("unfaithful passed", True), ("faithful passed", True)], roc_rows),
        "</details>",
        "<h3>Flagging by threshold</h3>",
        '<p class="muted">A summary is flagged when its weakest claim scores below the threshold.</p>',
        charts_.place(threshold_chart(lab), "Line chart: precision, recall and faithful passed by threshold"),
        "<details><summary>Flagging by threshold as a table</summary>",
        _table([("threshold", False), ("precision of a flag", True), ("unfaithful flagged", True),
                ("faithful passed", True)], thr_rows),
        "</details>",
        "<h3>Reliability</h3>",
        '<p class="muted">Share of faithful summaries per bin of weakest-claim score against the bin\'s mean '
        "score: on the diagonal, a score of 0.7 means 7 in 10 are faithful.</p>",
        charts_.place(reliability_chart(lab), "Reliability diagram"),
        _table([("weakest claim score", False), ("summaries", True), ("mean score", True), ("share faithful", True)],
               rel_rows),
        "</section>",
    ])


def _wrong_section(r: ReportModel, charts_: _Charts) -> str:
    if not r.fault_words and not r.types:
        return ""
    parts = ['<section id="wrong" aria-labelledby="wrong-h"><h2 id="wrong-h">What goes wrong</h2>']
    if r.fault_words:
        parts += ["<h3>Words at fault</h3>",
                  charts_.place(words_chart(r), "Bar chart: the most frequent words at fault"),
                  "<details><summary>Words at fault as a table</summary>",
                  _table([("word", False), ("times at fault", True)], [[escape(w.name), _n(w.count)] for w in r.fault_words]),
                  "</details>"]
    if r.types:
        parts += [f"<h3>By {escape(r.type_field or 'type')}</h3>",
                  charts_.place(types_chart(r), "Bar chart: summaries flagged per error type"),
                  _table([(r.type_field or "type", False), ("summaries", True), ("flagged", True)],
                         [[escape(t.type), _n(t.summaries), _interval(t.flagged)] for t in r.types])]
    parts.append("</section>")
    return "\n".join(parts)


def _worst_section(r: ReportModel) -> str:
    if not r.worst:
        return ""
    parts = ['<section id="worst" aria-labelledby="worst-h">',
             f'<h2 id="worst-h">The {len(r.worst)} lowest-scored summaries</h2>']
    for i, w in enumerate(r.worst, 1):
        res = w.result
        fields = " · ".join(f"{escape(str(k))}: {escape(str(v))}" for k, v in sorted(w.fields.items())
                            if k != "label" and len(str(v)) <= 80)
        label = w.fields.get("label")
        human = "" if label not in (0, 1, True, False) else (" · human label: faithful" if label in (1, True)
                                                              else " · human label: unfaithful")
        parts.append(f'<article class="worst {escape(res.label)}" id="worst-{i}">'
                     f"<h3>{i}. {escape(w.id or f'{w.file}:{w.line}')}</h3>"
                     f'<p class="verdict">{verdict_line(res)}</p>'
                     + (f'<p class="muted">{fields}{human}</p>' if fields or human else ""))
        parts.append(summary_sections(res, prefix=f"w{i}-src", id_prefix=f"w{i}-sentence"))
        if len(res.source) <= MAX_SOURCE_CHARS:
            parts.append(f'<details><summary>Source ({_n(len(res.source))} characters)</summary>'
                         f'<div class="source">{source_html(res, prefix=f"w{i}-src")}</div></details>')
        else:
            parts.append(f'<p class="muted">Source of {_n(len(res.source))} characters not shown; the evidence '
                         "above quotes it with offsets.</p>")
        parts.append("</article>")
    parts.append("</section>")
    return "\n".join(parts)


def _problems_section(r: ReportModel) -> str:
    h = r.headline
    if not r.error_codes and not h.unreadable:
        return ""
    parts = ['<section id="problems" aria-labelledby="problems-h"><h2 id="problems-h">Not counted</h2>']
    if r.error_codes:
        parts.append(f"<p>{_n(h.errors)} records could not be checked (error rows), by code:</p>")
        parts.append(_table([("code", False), ("records", True)], [[escape(c.name), _n(c.count)] for c in r.error_codes]))
    if h.unreadable:
        listed = "".join(f"<li><code>{escape(b.file)}:{b.line}</code>: {escape(b.reason)}</li>" for b in r.bad_lines)
        more = h.unreadable - len(r.bad_lines)
        parts.append(f'<p id="unreadable">{_n(h.unreadable)} lines are neither a result nor an error row'
                     f"{f' (the first {len(r.bad_lines)} listed)' if more > 0 else ''}:</p><ul>{listed}</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def render_report_html(report: ReportModel, *, title: str = "verisum report") -> str:
    """The whole page, as a string."""
    charts_ = _Charts()
    labelled = report.labelled is not None
    body = [
        f"<header><h1>{escape(title)}</h1>"
        f'<p class="muted">{_n(report.headline.lines)} result lines from {escape(", ".join(report.inputs))}</p></header>',
    ]
    sections = [("headline", "Headline")]
    sections += [(f"by-{t.field}", f"By {t.field}") for t in report.groups]
    if report.histogram:
        sections.append(("scores", "Scores"))
    if labelled:
        sections.append(("labels", "Against human labels"))
    if report.fault_words or report.types:
        sections.append(("wrong", "What goes wrong"))
    if report.worst:
        sections.append(("worst", "Lowest-scored summaries"))
    if report.error_codes or report.headline.unreadable:
        sections.append(("problems", "Not counted"))
    body.append('<nav aria-label="Sections"><ul>' + "".join(f'<li><a href="#{escape(a)}">{escape(t)}</a></li>'
                                                           for a, t in sections) + "</ul></nav><main>")
    body.append('<section id="headline" aria-labelledby="headline-h"><h2 id="headline-h">Headline</h2>')
    if report.headline.results == 0:
        body.append('<p class="warn" id="empty">No results to report: '
                    + ("every line was an error row or unreadable (see below)." if report.headline.lines else
                       "the input holds no lines.") + "</p>")
    body.append(_headline(report) + "</section>")
    body += [_group_section(t, charts_, labelled) for t in report.groups]
    body.append(_scores_section(report, charts_))
    if report.labelled is not None:
        body.append(_labelled_section(report.labelled, charts_))
    body.append(_wrong_section(report, charts_))
    body.append(_worst_section(report))
    body.append(_problems_section(report))
    body.append("</main>")
    usable = [f for f in report.fields if f not in {t.field for t in report.groups}]
    body.append(f'<footer class="muted"><p>verisum {escape(report.verisum)} · charts: Vega-Lite, inline; this page '
                "loads nothing from the network"
                + (f" · fields to group by (--by): {escape(', '.join(usable[:30]))}" if usable else "") + "</p></footer>")
    csp = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:"
    scripts = ""
    if charts_.islands:
        scripts = "\n".join(charts_.islands) + f"\n<script>{_vendored()}</script>\n<script>{_SCRIPT}</script>"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        f"<title>{escape(title)}</title><style>{CHECK_CSS}{_CSS}</style></head>\n<body>"
        + "\n".join(p for p in body if p)
        + scripts
        + "</body></html>\n"
    )
