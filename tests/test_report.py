"""verisum report: results in (check --jsonl, batch check parts, eval --predictions), figures
out as JSON and as one self-contained page. The browser's view is in test_report_browser.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.report_records import system_records, write_jsonl
from verisum.calibration import Calibrator, best_threshold
from verisum.evaluation.metrics import roc_auc
from verisum.report import build_report, render_report_html
from verisum.report.figures import wilson

SYSTEMS = {"steady": 0, "mostly-right": 1, "coin": 2, "shaky": 3, "wild": 5}


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(input records, check --jsonl results) of the systems' summaries, checked once."""
    from click.testing import CliRunner

    from verisum.cli import main

    d = tmp_path_factory.mktemp("report")
    records = write_jsonl(d / "records.jsonl", system_records(SYSTEMS))
    results = d / "results.jsonl"
    res = CliRunner().invoke(main, ["check", "--jsonl", str(records), "-o", str(results)])
    assert res.exit_code == 1, res.output  # something is unsupported: the verdict's exit code
    return records, results


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _json_report(cli, *args) -> dict:
    res = cli("report", *args, "--format", "json")
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


# -- figures ---------------------------------------------------------------------------------
def test_report_by_system_sorts_groups_by_flagged_share_and_counts_everything(cli, checked):
    records, results = checked
    rep = _json_report(cli, results, "--records", records, "--by", "system")
    lines = _lines(results)
    h = rep["headline"]
    assert h["results"] == len(lines) == 5 * len(SYSTEMS)
    assert h["errors"] == 0 and h["unreadable"] == 0
    assert sum(h["summaries_by_verdict"].values()) == h["results"]
    assert h["flagged"]["count"] == sum(1 for r in lines if r["label"] != "supported")
    claims = [c["label"] for r in lines for s in r["sentences"] for c in s["claims"]]
    assert h["claims_by_verdict"] == {v: claims.count(v) for v in ("supported", "unsupported", "contradicted")}
    groups = rep["groups"][0]["groups"]
    assert rep["groups"][0]["field"] == "system"
    shares = [g["flagged"]["share"] for g in groups]
    assert shares == sorted(shares, reverse=True)
    # the checker catches every swapped number and invented claim of these stories
    assert [g["value"] for g in groups] == ["wild", "shaky", "coin", "mostly-right", "steady"]
    assert [g["flagged"]["count"] for g in groups] == [5, 3, 2, 1, 0]
    for g in groups:
        iv = g["flagged"]
        assert iv["low"] <= iv["share"] <= iv["high"]
    # error types come from the joined records (verisum perturb's field name)
    assert rep["type_field"] == "error_type"
    assert {t["type"]: t["summaries"] for t in rep["types"]} == {"number": 5, "invented": 6}


def test_report_labelled_figures_are_evals_and_calibrates(cli, checked):
    """The ROC AUC ranks by the summary score, as verisum eval does; everything the threshold
    decides (flagging by threshold, calibrate's pick, reliability) reads the weakest claim."""
    records, results = checked
    rep = _json_report(cli, results, "--records", records)
    by_id = {r["id"]: r for r in _lines(records)}
    lines = _lines(results)
    scores = [r["score"] for r in lines]
    weakest = [min(s["score"] for s in r["sentences"]) for r in lines]
    labels = [by_id[r["id"]]["label"] for r in lines]
    lab = rep["labelled"]
    assert lab["n"] == len(lines) and lab["faithful"] == labels.count(1)
    assert lab["auc"] == pytest.approx(roc_auc(scores, labels), abs=1e-12)
    assert lab["calibrated_threshold"] == Calibrator().fit_threshold(weakest, labels).threshold
    # the verdicts as given are the weakest claim against the threshold in use
    t = lines[0]["threshold"]
    assert all((w >= t) == (r["label"] == "supported") for w, r in zip(weakest, lines))
    at = {p["threshold"]: p for p in lab["thresholds"]}
    w, y = np.array(weakest), np.array(labels)
    assert at[0.5]["flag_recall"] == pytest.approx(((w < 0.5) & (y == 0)).sum() / (y == 0).sum())
    assert lab["roc"][0]["fpr"] == 0 and lab["roc"][-1]["tpr"] == 1 and lab["roc"][-1]["fpr"] == 1
    assert sum(b["n"] for b in lab["reliability"]) == len(lines)
    assert sum(b["count"] for b in rep["histogram"]) == len(lines)
    for b in rep["histogram"]:  # weakest-claim bins: supported ones at or above the threshold
        if b["verdict"] == "supported":
            assert b["high"] > t


def test_report_auc_equals_verisum_eval_as_is(cli, checked):
    """The page's ROC AUC is the one `verisum eval --protocol as-is` prints for the same records."""
    records, results = checked
    ev = cli("eval", records, "--protocol", "as-is", "--format", "json")
    assert ev.exit_code == 0, ev.stderr
    eval_auc = json.loads(ev.stdout)["rows"][0]["auc"]
    res = cli("report", results, "--records", records, "-o", "-")
    assert res.exit_code == 0, res.stderr
    printed = re.search(r"ROC AUC (\d\.\d{3})", res.stdout)
    assert printed and printed.group(1) == f"{eval_auc:.3f}"


def test_report_auc_equals_verisum_eval_on_a_bench_dev_set(cli, shared_dir, tmp_path):
    """The must-show on real labels: check --jsonl on a bench-dev set, labels joined by id."""
    records = shared_dir / "data" / "bench-dev" / "goyal21.jsonl"
    if not records.is_file():
        pytest.skip(f"{records} is absent")
    ev = cli("eval", records, "--protocol", "as-is", "--format", "json")
    assert ev.exit_code == 0, ev.stderr
    eval_auc = json.loads(ev.stdout)["rows"][0]["auc"]
    results = tmp_path / "results.jsonl"
    assert cli("check", "--jsonl", records, "-o", results).exit_code in (0, 1)
    page = cli("report", results, "--records", records, "-o", "-").stdout
    printed = re.search(r"ROC AUC (\d\.\d{3})", page)
    assert printed and printed.group(1) == f"{eval_auc:.3f}"


def test_report_worst_are_the_lowest_scores_in_order(cli, checked):
    _, results = checked
    rep = _json_report(cli, results, "--worst", "3")
    lowest = sorted(r["score"] for r in _lines(results))[:3]
    assert [w["score"] for w in rep["worst"]] == lowest
    assert all(w["result"]["sentences"] for w in rep["worst"])


def test_report_mixed_thresholds_are_reported_not_averaged(cli, checked, tmp_path):
    records, results = checked
    strict = tmp_path / "strict.jsonl"
    assert cli("check", "--jsonl", records, "--threshold", "0.9", "-o", strict).exit_code == 1
    rep = _json_report(cli, results, strict)
    h = rep["headline"]
    assert h["mixed_thresholds"] is True
    assert sorted(t["threshold"] for t in h["thresholds"]) == [pytest.approx(_lines(results)[0]["threshold"]), 0.9]
    # each summary is flagged at its own threshold: the total is the sum of the two files'
    per_file = sum(1 for p in (results, strict) for r in _lines(p) if r["label"] != "supported")
    assert h["flagged"]["count"] == per_file
    page = cli("report", results, strict, "-o", "-").stdout
    assert 'id="mixed-thresholds"' in page


def test_report_groups_by_file(cli, checked, tmp_path):
    _, results = checked
    rep = _json_report(cli, results, "--by", "file")
    assert [g["value"] for g in rep["groups"][0]["groups"]] == [str(results)]


# -- inputs ----------------------------------------------------------------------------------
def test_report_counts_and_lists_bad_lines_and_error_rows(cli, checked, tmp_path):
    _, results = checked
    mixed = tmp_path / "mixed.jsonl"
    good = results.read_bytes()
    bad = [b"not json at all", b"[1, 2]", b'{"highlights": [], "id": "h"}', b'{"foo": 1}',
           "caf\u00e9".encode("latin-1"), b'{"label": "supported", "score": "high", "sentences": []}']
    error_row = json.dumps({"ok": False, "error": "line 3: missing field", "status": 422, "code": "bad_record",
                            "id": None, "line": 3}).encode()
    mixed.write_bytes(good + b"\n".join([*bad, error_row, b"", b"   "]) + b"\n")
    res = cli("report", mixed, "--format", "json")
    assert res.exit_code == 0, res.stderr
    rep = json.loads(res.stdout)
    h = rep["headline"]
    assert h["results"] == len(_lines(results))
    assert h["errors"] == 1 and rep["error_codes"] == [{"name": "bad_record", "count": 1}]
    assert h["unreadable"] == len(bad)
    reasons = [b["reason"] for b in rep["bad_lines"]]
    assert any("not valid JSON" in r for r in reasons)
    assert any("highlights result" in r for r in reasons)
    assert any("not a verisum result" in r for r in reasons)
    assert "unreadable lines" in res.stderr
    page = cli("report", mixed, "-o", "-").stdout
    assert 'id="unreadable"' in page and "not valid JSON" in page


def test_report_empty_input_says_so(cli, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    res = cli("report", empty)
    assert res.exit_code == 2 and "nothing to report" in res.stderr
    blank = tmp_path / "blank.jsonl"
    blank.write_bytes(b"\n  \n")
    assert cli("report", blank, "--format", "json").exit_code == 2


def test_report_of_only_bad_lines_is_written_and_says_so(cli, tmp_path):
    junk = tmp_path / "junk.jsonl"
    junk.write_bytes(b"nope\n{}\n")
    res = cli("report", junk, "-o", tmp_path / "r.html")
    assert res.exit_code == 0
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="empty"' in page and "No results to report" in page


@pytest.mark.parametrize("args, message", [
    (("--by", "nosuchfield"), "no result has the field 'nosuchfield'"),
    (("--worst", "-1"), "-1"),
])
def test_report_usage_errors_exit_2(cli, checked, args, message):
    _, results = checked
    res = cli("report", results, *args, "--format", "json")
    assert res.exit_code == 2 and message in res.stderr


def test_report_missing_input_exit_2(cli, tmp_path):
    res = cli("report", tmp_path / "absent.jsonl")
    assert res.exit_code == 2 and "no such file" in res.stderr


def test_report_reads_batch_parquet_parts_like_check_jsonl(cli, checked, tmp_path):
    pytest.importorskip("pyarrow")
    records, results = checked
    out = tmp_path / "parts"
    res = cli("batch", "check", records, out, "--format", "parquet")
    assert res.exit_code == 1, res.stderr
    a = _json_report(cli, out, "--records", records, "--by", "system")
    b = _json_report(cli, results, "--records", records, "--by", "system")
    for key in ("results", "flagged", "summaries_by_verdict", "claims_by_verdict"):
        assert a["headline"][key] == b["headline"][key]
    assert a["groups"][0]["groups"] == b["groups"][0]["groups"]
    assert a["labelled"]["auc"] == b["labelled"]["auc"]


def test_report_reads_eval_predictions(cli, checked, tmp_path):
    records, _ = checked
    preds = tmp_path / "preds.jsonl"
    assert cli("eval", records, "--protocol", "as-is", "--predictions", preds).exit_code == 0
    rep = _json_report(cli, preds, "--records", records, "--by", "system")
    h = rep["headline"]
    assert h["results"] == len(_lines(records))
    assert set(h["summaries_by_verdict"]) <= {"supported", "flagged"}
    assert h["thresholds"] == [{"threshold": None, "results": h["results"], "files": [str(preds)]}]
    assert sum(h["claims_by_verdict"].values()) == 0  # predictions carry no claims
    assert rep["labelled"]["auc"] is not None


def test_report_reads_stdin(cli, checked):
    _, results = checked
    res = cli("report", "-", "--format", "json", input=results.read_bytes())
    assert res.exit_code == 0 and json.loads(res.stdout)["headline"]["results"] == len(_lines(results))


# -- the page --------------------------------------------------------------------------------
def test_report_page_is_self_contained_and_escapes_every_text(checked, tmp_path):
    records, results = checked
    hostile = tmp_path / "hostile.jsonl"
    rows = []
    for r in _lines(results)[:4]:
        # the texts stay as they are (their offsets with them): only the id and the group are hostile
        r["id"] = '</script><img src=x onerror=alert(1)>'
        r["system"] = '</script><script>alert("sys")</script>'
        rows.append(r)
    write_jsonl(hostile, rows)
    page = render_report_html(build_report([str(hostile)], by=["system"], worst=2))
    assert page.startswith("<!DOCTYPE html>")
    assert "default-src 'none'" in page
    assert "<script>alert" not in page and "<img src=x" not in page
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.S)  # the page without its scripts
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=", markup)
    assert "<script src" not in page
    # the JSON islands parse back to the group values, whatever they hold
    islands = re.findall(r'<script type="application/json" data-chart="[^"]+">(.*?)</script>', page, re.S)
    assert islands and all(json.loads(x) for x in islands)
    groups = [v.get("group") for x in islands for v in json.loads(x).get("data", {}).get("values", [])]
    assert '</script><script>alert("sys")</script>' in groups


def test_report_page_shows_the_worst_with_evidence(cli, checked):
    records, results = checked
    page = cli("report", results, "--records", records, "--by", "system", "--worst", "2", "-o", "-").stdout
    worst = page[page.index('id="worst"'):]
    assert worst.count('<article class="worst') == 2
    assert 'class="evidence"><a href="#w1-src-' in worst
    assert re.search(r'<mark class="ev" id="w1-src-\d+-\d+">', worst)
    assert '<mark class="fault">' in worst


def test_report_json_format_matches_its_schema(cli, checked):
    from verisum.schema import ReportModel

    records, results = checked
    rep = _json_report(cli, results, "--records", records, "--by", "system")
    assert ReportModel.model_validate(rep).headline.results == rep["headline"]["results"]


# -- pieces ----------------------------------------------------------------------------------
def test_wilson_interval():
    iv = wilson(5, 10)
    assert iv.share == 0.5 and iv.low == pytest.approx(0.2366, abs=1e-4) and iv.high == pytest.approx(0.7634, abs=1e-4)
    assert wilson(0, 10).low == 0.0 and wilson(10, 10).high == 1.0
    assert wilson(0, 0).share is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40).map(lambda x: x / 40), st.integers(0, 1)), min_size=2, max_size=60))
def test_best_threshold_is_the_brute_force_best(pairs):
    s = [p[0] for p in pairs]
    y = [p[1] for p in pairs]
    if len(set(y)) < 2:
        return
    thr, bacc = best_threshold(s, y)
    cands = sorted(set(round(x, 4) for x in s)) + [max(round(x, 4) for x in s) + 1e-4]

    def acc(t: float) -> float:
        pos = [x >= t for x, lab in zip(s, y) if lab == 1]
        neg = [x < t for x, lab in zip(s, y) if lab == 0]
        return (sum(pos) / len(pos) + sum(neg) / len(neg)) / 2

    best = max(acc(t) for t in cands)
    assert bacc == pytest.approx(best)
    assert thr == min(t for t in cands if acc(t) >= best - 1e-12)


def test_report_damaged_parquet_is_a_clear_error(cli, tmp_path):
    pytest.importorskip("pyarrow")
    bad = tmp_path / "part-0.parquet"
    bad.write_bytes(b"PAR1 this is not parquet at all PAR1")
    res = cli("report", bad, "--format", "json")
    assert res.exit_code == 2 and "not a readable Parquet file" in res.stderr
    ok = tmp_path / "results.jsonl"
    ok.write_text('{"id": "a", "score": 0.4, "label": 0}\n')
    res = cli("report", ok, "--records", bad, "--format", "json")
    assert res.exit_code == 2 and "not a readable Parquet file" in res.stderr
