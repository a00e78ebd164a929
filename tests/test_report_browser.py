"""The report page in a real browser (headless Debian Chromium): `verisum batch check` output by
system, then `verisum report --by system`, opened from a file.

What must hold: the per-system chart draws every system, in the order of their flagged share
(the table's order); the worst summaries show their evidence; no request leaves the page and
nothing fails in its console; the page is usable 375 px wide and from the keyboard.

A small fixture of the same shape as ``../shared/data/news/system_outputs_dev.jsonl`` runs
everywhere; the real 2,820 system summaries (31 systems) run where ``../shared`` is present.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support.report_records import system_records, write_jsonl

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SYSTEMS = {"steady": 0, "mostly-right": 1, "coin": 2, "shaky": 3, "wild": 5, "careful": 0}


def _report(cli, records: Path, out: Path) -> tuple[Path, dict]:
    """batch check -> report (HTML and JSON); returns the page's path and the figures."""
    parts = out / "parts"
    res = cli("batch", "check", records, parts)
    assert res.exit_code in (0, 1), res.stderr
    page = out / "report.html"
    res = cli("report", parts, "--records", records, "--by", "system", "-o", page)
    assert res.exit_code == 0, res.stderr
    res = cli("report", parts, "--records", records, "--by", "system", "--format", "json")
    assert res.exit_code == 0, res.stderr
    return page, json.loads(res.stdout)


def _open(browser: Any, path: Path, width: int = 1280) -> tuple[Any, Any, list[str], list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-charts=done]", timeout=30_000)
    return context, page, requests, problems


def _chart_labels(page: Any, section: str) -> list[str]:
    """The y-axis labels of the first chart in a section, top to bottom, as drawn (SVG text)."""
    return page.eval_on_selector(
        f"#{section} .chart svg",
        """svg => {
            const axes = Array.from(svg.querySelectorAll('g.role-axis'));
            const y = axes.find(a => (a.getAttribute('aria-label') || '').startsWith('Y-axis'));
            return Array.from(y.querySelectorAll('g.role-axis-label text'))
                .map(t => ({text: t.textContent, y: t.getBoundingClientRect().top}))
                .sort((a, b) => a.y - b.y).map(t => t.text);
        }""",
    )


def _assert_report_page(browser: Any, path: Path, figures: dict, shot: str) -> list[str]:
    groups = [g["value"] for g in figures["groups"][0]["groups"]]
    context, page, requests, problems = _open(browser, path)
    try:
        assert requests == [path.as_uri()], requests  # the page itself, nothing else
        assert problems == [], problems
        assert page.get_attribute("#by-system .chart", "data-rendered") == "true"
        drawn = _chart_labels(page, "by-system")
        # long names are cut to fit; each label is the start of its system's name
        assert len(drawn) == len(groups)
        for label, name in zip(drawn, groups):
            assert name.startswith(label.rstrip("…")), (label, name)
        table = page.eval_on_selector_all("#by-system tbody th", "ths => ths.map(t => t.textContent)")
        assert table == groups
        shares = [g["flagged"]["share"] for g in figures["groups"][0]["groups"]]
        assert shares == sorted(shares, reverse=True)
        # the worst summaries: evidence quoted, linked into their own source
        links = page.eval_on_selector_all("#worst .evidence a", "as => as.map(a => a.getAttribute('href'))")
        assert links and all(h.startswith("#w") for h in links)
        assert page.eval_on_selector_all("#worst .evidence", "ds => ds.filter(d => d.textContent.includes('source[')).length") > 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=False)
        # the keyboard reaches the section links first
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#headline"
    finally:
        context.close()
    # a phone's width: nothing wider than the screen
    context, page, _, problems = _open(browser, path, width=375)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert problems == []
        page.screenshot(path=str(ARTIFACTS / f"{shot}-375.png"), full_page=False)
    finally:
        context.close()
    return groups


def test_browser_report_by_system(browser, cli, tmp_path):
    records = write_jsonl(tmp_path / "records.jsonl", system_records(SYSTEMS))
    page, figures = _report(cli, records, tmp_path)
    groups = _assert_report_page(browser, page, figures, "report-fixture")
    assert groups[:5] == ["wild", "shaky", "coin", "mostly-right", "careful"]
    assert set(groups) == set(SYSTEMS)


def _system_output_records(news: Path, path: Path) -> int:
    """The 2,820 system summaries joined with their articles: one record per (story, system)."""
    articles = {}
    for name in ("cnndm_dev.jsonl", "newsroom_eval.jsonl"):
        for line in (news / name).open(encoding="utf-8"):
            obj = json.loads(line)
            articles[obj["id"]] = obj["article"]
    rows = []
    for line in (news / "system_outputs_dev.jsonl").open(encoding="utf-8"):
        obj = json.loads(line)
        rows.append({"id": f"{obj['id']}/{obj['system']}", "system": obj["system"], "dataset": obj["dataset"],
                     "doc": articles[obj["id"]], "summary": obj["summary"]})
    write_jsonl(path, rows)
    return len(rows)


def test_browser_report_of_the_published_systems(browser, cli, shared_dir, tmp_path):
    """The must-show: all 31 systems' 2,820 summaries (about a minute and a half on 2 cores)."""
    news = shared_dir / "data" / "news"
    if not (news / "system_outputs_dev.jsonl").is_file():
        pytest.skip(f"{news} is absent")
    records = tmp_path / "systems.jsonl"
    assert _system_output_records(news, records) == 2820
    page, figures = _report(cli, records, tmp_path)
    assert figures["headline"]["results"] + figures["headline"]["errors"] == 2820
    groups = _assert_report_page(browser, page, figures, "report-systems")
    assert len(groups) == 31
