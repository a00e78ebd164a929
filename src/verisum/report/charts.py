"""Vega-Lite specifications of the report's charts, built from the :class:`~verisum.schema.ReportModel`.

Each function returns a plain dict (a Vega-Lite v6 spec with its data inline) or None when there
is nothing to draw. The page renders them with the vendored vega-embed (SVG renderer, so the
charts are text a screen reader and a test can read); every chart also has a table beside it.
Only aggregates go into the specs (at most a few hundred data points), never one point per
result, so the page stays small and opens fast whatever the number of results.
"""

from __future__ import annotations

from typing import Any

from ..schema import GroupTableModel, LabelledModel, ReportModel

__all__ = ["group_chart", "histogram_chart", "roc_chart", "threshold_chart", "reliability_chart", "words_chart",
           "types_chart", "VERDICT_COLOURS"]

#: The check page's colours (render/html.py), so a verdict looks the same everywhere.
VERDICT_COLOURS = {"supported": "#1a7f37", "unsupported": "#9a6700", "contradicted": "#cf222e", "flagged": "#8250df"}
_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier only: nothing is fetched
_BASE: dict[str, Any] = {"$schema": _SCHEMA, "width": "container",
                         "config": {"view": {"stroke": None}, "axis": {"labelFontSize": 11, "titleFontSize": 12},
                                    "font": "system-ui, -apple-system, Segoe UI, sans-serif"}}


def _spec(**kw: Any) -> dict[str, Any]:
    out = dict(_BASE)
    out.update(kw)
    return out


def _pct(x: float | None) -> float | None:
    return None if x is None else round(100 * x, 2)


def group_chart(table: GroupTableModel) -> dict[str, Any] | None:
    """Share of summaries flagged per group, with its 95% interval, sorted highest first."""
    if not table.groups:
        return None
    values = [{"group": g.value, "flagged": _pct(g.flagged.share), "low": _pct(g.flagged.low),
               "high": _pct(g.flagged.high), "summaries": g.summaries,
               "unsupported": _pct(g.unsupported_claims.share), "contradicted": _pct(g.contradicted_claims.share),
               "rank": i} for i, g in enumerate(table.groups)]
    # an explicit order: the table's (highest flagged share first)
    y = {"field": "group", "type": "nominal", "title": table.field, "sort": [g.value for g in table.groups],
         "axis": {"labelLimit": 150}}
    tooltip = [{"field": "group", "title": table.field}, {"field": "summaries", "title": "summaries"},
               {"field": "flagged", "title": "flagged %"}, {"field": "low", "title": "95% low"},
               {"field": "high", "title": "95% high"}, {"field": "unsupported", "title": "claims unsupported %"},
               {"field": "contradicted", "title": "claims contradicted %"}]
    return _spec(
        description=f"Share of summaries flagged per {table.field}, highest first, with 95% intervals.",
        data={"values": values}, height={"step": 18}, encoding={"y": y, "tooltip": tooltip},
        layer=[
            {"mark": {"type": "bar", "color": VERDICT_COLOURS["contradicted"], "opacity": 0.75},
             "encoding": {"x": {"field": "flagged", "type": "quantitative", "title": "summaries flagged (%)",
                                "scale": {"domain": [0, 100]}}}},
            {"mark": {"type": "rule", "color": "#1f2328"},
             "encoding": {"x": {"field": "low", "type": "quantitative"}, "x2": {"field": "high"}}},
        ],
    )


def histogram_chart(report: ReportModel) -> dict[str, Any] | None:
    """Weakest-claim scores (what the threshold decides on) in bins of 0.05, stacked by
    verdict, with the threshold(s) in use."""
    if not report.histogram:
        return None
    values = [{"low": b.low, "high": b.high, "verdict": b.verdict, "count": b.count} for b in report.histogram]
    verdicts = [v for v in VERDICT_COLOURS if any(b.verdict == v for b in report.histogram)]
    layers: list[dict[str, Any]] = [{
        "mark": "bar",
        "encoding": {
            "x": {"field": "low", "type": "quantitative", "bin": {"binned": True, "step": 0.05}, "title": "weakest claim score",
                  "scale": {"domain": [0, 1]}},
            "x2": {"field": "high"},
            "y": {"field": "count", "type": "quantitative", "stack": True, "title": "summaries"},
            "color": {"field": "verdict", "type": "nominal", "title": "verdict",
                      "scale": {"domain": verdicts, "range": [VERDICT_COLOURS[v] for v in verdicts]}},
            "tooltip": [{"field": "verdict"}, {"field": "low", "title": "from"}, {"field": "high", "title": "to"},
                        {"field": "count"}],
        },
    }]
    rules = [{"t": t.threshold, "what": "threshold in use"} for t in report.headline.thresholds if t.threshold is not None]
    if report.labelled is not None and report.labelled.calibrated_threshold is not None:
        rules.append({"t": report.labelled.calibrated_threshold, "what": "verisum calibrate would pick"})
    if rules:
        layers.append(_rules(rules))
    return _spec(description="Weakest-claim scores by verdict, with the decision threshold.", data={"values": values},
                 height=180, layer=layers)


def _rules(rules: list[dict[str, Any]], axis: str = "x") -> dict[str, Any]:
    return {"data": {"values": rules},
            "mark": {"type": "rule", "strokeDash": [4, 3], "strokeWidth": 2},
            "encoding": {axis: {"field": "t", "type": "quantitative"},
                         "color": {"value": "#1f2328"},
                         "tooltip": [{"field": "what"}, {"field": "t", "title": "threshold", "format": ".3f"}]}}


def roc_chart(lab: LabelledModel) -> dict[str, Any] | None:
    """The ROC curve of the summary score (faithful summaries passed against unfaithful ones
    passed)."""
    if not lab.roc:
        return None
    values = [{"fpr": p.fpr, "tpr": p.tpr, "threshold": p.threshold} for p in lab.roc]
    layers: list[dict[str, Any]] = [
        {"data": {"values": [{"x": 0, "y": 0}, {"x": 1, "y": 1}]}, "mark": {"type": "line", "color": "#8c959f",
                                                                             "strokeDash": [3, 3]},
         "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"}}},
        {"mark": {"type": "line", "color": "#0969da", "interpolate": "step-after"},
         "encoding": {"x": {"field": "fpr", "type": "quantitative", "title": "unfaithful summaries passed",
                            "scale": {"domain": [0, 1]}},
                      "y": {"field": "tpr", "type": "quantitative", "title": "faithful summaries passed",
                            "scale": {"domain": [0, 1]}},
                      "order": {"field": "threshold", "sort": "descending"},
                      "tooltip": [{"field": "threshold"}, {"field": "fpr"}, {"field": "tpr"}]}},
    ]
    return _spec(description=f"ROC curve, AUC {lab.auc:.3f}." if lab.auc is not None else "ROC curve.",
                 data={"values": values}, height=260, layer=layers)


def threshold_chart(lab: LabelledModel) -> dict[str, Any] | None:
    """Flagging unfaithful summaries (weakest claim below the threshold): precision, recall and
    faithful passed against the threshold."""
    if not lab.thresholds:
        return None
    values = []
    for p in lab.thresholds:
        for name, v in (("precision of a flag", p.flag_precision), ("unfaithful flagged (recall)", p.flag_recall),
                        ("faithful passed", p.faithful_passed)):
            if v is not None:
                values.append({"threshold": p.threshold, "measure": name, "value": round(v, 4)})
    layers: list[dict[str, Any]] = [{
        "mark": "line",
        "encoding": {"x": {"field": "threshold", "type": "quantitative", "title": "threshold (flag below)"},
                     "y": {"field": "value", "type": "quantitative", "title": "share", "scale": {"domain": [0, 1]}},
                     "color": {"field": "measure", "type": "nominal", "title": None,
                               "scale": {"range": ["#cf222e", "#0969da", "#1a7f37"]},
                               "legend": {"orient": "bottom", "direction": "vertical"}},
                     "tooltip": [{"field": "threshold"}, {"field": "measure"}, {"field": "value"}]},
    }]
    if lab.calibrated_threshold is not None:
        layers.append(_rules([{"t": lab.calibrated_threshold, "what": "verisum calibrate would pick"}]))
    return _spec(description="Precision and recall of flagging, and faithful summaries passed, by threshold.",
                 data={"values": values}, height=220, layer=layers)


def reliability_chart(lab: LabelledModel) -> dict[str, Any] | None:
    """Reliability diagram: the share of faithful summaries in each bin of weakest-claim score
    against the bin's mean score (on the diagonal = calibrated); the points sized by the bins."""
    if not lab.reliability:
        return None
    values = [{"mean_score": round(b.mean_score, 4), "faithful": round(b.faithful_share, 4), "n": b.n,
               "bin": f"{b.low:.1f}-{b.high:.1f}"} for b in lab.reliability]
    return _spec(
        description="Reliability diagram: share faithful per score bin against the mean score.",
        data={"values": values}, height=240,
        layer=[
            {"data": {"values": [{"x": 0, "y": 0}, {"x": 1, "y": 1}]},
             "mark": {"type": "line", "color": "#8c959f", "strokeDash": [3, 3]},
             "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"}}},
            {"mark": {"type": "line", "color": "#0969da"},
             "encoding": {"x": {"field": "mean_score", "type": "quantitative", "title": "weakest claim score (bin mean)",
                                "scale": {"domain": [0, 1]}},
                          "y": {"field": "faithful", "type": "quantitative", "title": "share faithful",
                                "scale": {"domain": [0, 1]}}}},
            {"mark": {"type": "circle", "color": "#0969da", "opacity": 0.8},
             "encoding": {"x": {"field": "mean_score", "type": "quantitative"},
                          "y": {"field": "faithful", "type": "quantitative"},
                          "size": {"field": "n", "type": "quantitative", "title": "summaries",
                                   "scale": {"range": [30, 400]}, "legend": {"orient": "bottom"}},
                          "tooltip": [{"field": "bin"}, {"field": "n"}, {"field": "mean_score"}, {"field": "faithful"}]}},
        ],
    )


def _count_bars(values: list[dict[str, Any]], field: str, title: str, x_title: str, colour: str,
                description: str, x_field: str = "count", domain: list[float] | None = None) -> dict[str, Any]:
    x: dict[str, Any] = {"field": x_field, "type": "quantitative", "title": x_title}
    if domain:
        x["scale"] = {"domain": domain}
    return _spec(description=description, data={"values": values}, height={"step": 16},
                 mark={"type": "bar", "color": colour},
                 encoding={"y": {"field": field, "type": "nominal", "title": title,
                                 "sort": [v[field] for v in values], "axis": {"labelLimit": 150}},
                           "x": x, "tooltip": [{"field": field, "title": title}, {"field": x_field, "title": x_title}]})


def words_chart(report: ReportModel) -> dict[str, Any] | None:
    """The most frequent words at fault."""
    if not report.fault_words:
        return None
    values = [{"word": w.name, "count": w.count, "rank": i} for i, w in enumerate(report.fault_words)]
    return _count_bars(values, "word", "word at fault", "times at fault", VERDICT_COLOURS["unsupported"],
                       "The most frequent words at fault.")


def types_chart(report: ReportModel) -> dict[str, Any] | None:
    """Share of summaries flagged per error type."""
    if not report.types:
        return None
    values = [{"type": t.type, "flagged": _pct(t.flagged.share), "summaries": t.summaries, "rank": i}
              for i, t in enumerate(report.types)]
    return _count_bars(values, "type", report.type_field or "type", "flagged (%)", VERDICT_COLOURS["contradicted"],
                       "Share of summaries flagged per error type.", x_field="flagged", domain=[0, 100])
