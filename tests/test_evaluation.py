"""Evaluation: metrics (AUC, balanced accuracy, span F1), records, claim targets, the combiner
fit, and the eval / calibrate / bench plumbing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from verisum.calibration import Calibrator
from verisum.evaluation import (
    LabelledRecord,
    Prediction,
    balanced_accuracy,
    claim_targets,
    evaluate_cached,
    fit_combiner,
    format_table,
    predict,
    read_labelled,
    report,
    roc_auc,
    span_counts,
    split_of,
)


@pytest.mark.parametrize(
    "scores, labels, expected",
    [
        ([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1], 1.0),
        ([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1], 0.0),
        ([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1], 0.5),  # ties count half
        ([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.75),
        ([0.3, 0.3, 0.6], [0, 1, 1], 0.75),
    ],
)
def test_evaluation_roc_auc_known_values(scores, labels, expected):
    assert roc_auc(scores, labels) == pytest.approx(expected)


def test_evaluation_roc_auc_matches_the_pair_count_definition():
    rng = np.random.default_rng(1)
    s = np.round(rng.random(200), 2)  # many ties
    y = rng.integers(0, 2, 200)
    pos, neg = s[y == 1], s[y == 0]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert roc_auc(s, y) == pytest.approx(pairs)


def test_evaluation_roc_auc_needs_both_classes():
    assert roc_auc([0.1, 0.2], [1, 1]) is None


def test_evaluation_balanced_accuracy_is_the_mean_recall():
    assert balanced_accuracy([1, 1, 1, 0], [1, 1, 0, 0]) == pytest.approx(0.75)
    assert balanced_accuracy([1, 1], [1, 1]) == 1.0  # one class present: its recall
    assert balanced_accuracy([], []) is None


def test_evaluation_span_counts_are_character_level():
    assert span_counts([(0, 5)], [(3, 8)]) == (2, 3, 3)
    assert span_counts([], [(0, 4)]) == (0, 0, 4)
    assert span_counts([(0, 2), (1, 3)], [(0, 3)]) == (3, 0, 0)  # overlapping predictions count once


def test_evaluation_split_is_by_document_and_stable():
    assert split_of("some article") == split_of("  some article\n")
    docs = [f"document number {i}" for i in range(2000)]
    share = sum(split_of(d) == "val" for d in docs) / len(docs)
    assert 0.35 < share < 0.45


def test_evaluation_read_labelled_keeps_order_and_reports_bad_lines(tmp_path):
    path = tmp_path / "recs.jsonl"
    path.write_text(
        "\n".join([
            json.dumps({"id": "a", "doc": "D one.", "summary": "S.", "label": 1, "dataset": "x"}),
            "{not json",
            json.dumps({"id": "b", "doc": "D two.", "summary": ["one", "two"], "label": 0}),
            json.dumps({"id": "c", "summary": "no doc", "label": 1}),
            json.dumps({"id": "d", "doc": "D.", "summary": "S.", "label": 0,
                        "spans": [{"start": None, "end": None, "text": "x"}]}),
        ]) + "\n",
        encoding="utf-8",
    )
    items = list(read_labelled([path]))
    assert [type(i).__name__ for i in items] == ["LabelledRecord", "tuple", "LabelledRecord", "tuple", "LabelledRecord"]
    assert items[2].summary == "- one\n- two"
    assert items[2].dataset == "recs"  # defaults to the file name
    assert items[3][0] == "c" and "no \"doc\"" in str(items[3][2])
    assert items[4].spans is None  # spans without offsets cannot be scored by position


def _rec(rid, label, dataset="set", spans=None, origin="o"):
    return LabelledRecord(rid, "doc", "summary", label, dataset, origin, spans)


def test_evaluation_report_rows_per_dataset_and_origin():
    recs = [_rec("1", 1, origin="a"), _rec("2", 0, origin="a"), _rec("3", 1, origin="b"), _rec("4", 0, origin="b")]
    preds = [Prediction("1", 0.9, 1), Prediction("2", 0.2, 0), Prediction("3", 0.4, 0), Prediction("4", error="boom")]
    rows = report(recs, preds)
    by = {(r.dataset, r.origin): r for r in rows}
    assert by[("set", "")].n == 4 and by[("set", "")].errors == 1
    assert by[("set", "a")].balanced_accuracy == 1.0
    assert by[("set", "b")].auc is None
    assert "mean balanced accuracy" not in format_table(rows)  # not a target set


def test_evaluation_report_span_f1_only_for_span_records():
    recs = [_rec("1", 0, spans=((0, 4),)), _rec("2", 1, spans=()), _rec("3", 0, dataset="other")]
    preds = [Prediction("1", 0.1, 0, ((0, 2),)), Prediction("2", 0.9, 1, ()), Prediction("3", 0.2, 0, ((0, 3),))]
    rows = {r.dataset: r for r in report(recs, preds) if not r.origin}
    assert rows["set"].span_f1 == pytest.approx(2 * 2 / (2 * 2 + 0 + 2))
    assert rows["other"].span_f1 is None


def _row(label, claims, dataset="d", spans=None, sentence_labels=None, split="train"):
    return {"id": str(id(claims)), "dataset": dataset, "origin": "", "split": split, "label": label,
            "spans": spans, "sentence_labels": sentence_labels, "claims": claims}


def _claim(sent, start, end, s0, s1, **feats):
    return {"sent": sent, "start": start, "end": end, "sent_start": s0, "sent_end": s1, "features": feats,
            "faults": [[start, end]]}


def test_evaluation_claim_targets_use_the_finest_annotation():
    two_sents = [_claim(0, 0, 10, 0, 20), _claim(0, 12, 20, 0, 20), _claim(1, 22, 40, 22, 40)]
    # faithful: every claim supported
    assert claim_targets(_row(1, two_sents)) == ([(0, 1), (1, 1), (2, 1)], [])
    # spans: the claim overlapping the span is unfaithful, the span-free sentence supported,
    # the other claim of the flagged sentence unknown
    assert claim_targets(_row(0, two_sents, spans=[[14, 16]])) == ([(1, 0), (2, 1)], [])
    # sentence labels: a flagged sentence with two claims is a bag
    assert claim_targets(_row(0, two_sents, sentence_labels=[0, 1])) == ([(2, 1)], [[0, 1]])
    # summary label only: a one-claim summary is certain, a longer one a bag
    assert claim_targets(_row(0, two_sents[:1])) == ([(0, 0)], [])
    assert claim_targets(_row(0, two_sents)) == ([], [[0, 1, 2]])


def test_evaluation_fit_combiner_learns_and_evaluates_from_cached_rows():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(300):
        label = int(rng.integers(0, 2))
        good = rng.normal(0.7, 0.1)
        weak = good if label else rng.normal(0.3, 0.1)
        claims = [_claim(0, 0, 5, 0, 20, floor=good, noise=rng.normal()),
                  _claim(0, 7, 12, 0, 20, floor=weak, noise=rng.normal())]
        rows.append(_row(label, claims, split="train" if i < 200 else "val"))
    cal = fit_combiner([r for r in rows if r["split"] == "train"], ("floor", "noise"))
    assert cal.coef_[0] > 0 and abs(cal.coef_[1]) < cal.coef_[0]
    table = evaluate_cached([r for r in rows if r["split"] == "val"], cal)
    assert table[0].auc > 0.95 and table[0].balanced_accuracy > 0.9


def test_evaluation_predict_gives_one_prediction_per_record_in_order(fake_checker):
    recs = [
        LabelledRecord("a", "The mayor opened the bridge on Monday.", "The mayor opened the bridge.", 1),
        LabelledRecord("b", "   ", "Empty source.", 0),
        LabelledRecord("c", "The mayor opened the bridge on Monday.", "The king sold a castle.", 0),
    ]
    preds = predict(fake_checker, recs, batch_size=2)
    assert [p.id for p in preds] == ["a", "b", "c"]
    assert preds[1].error and preds[1].to_dict() == {"id": "b", "error": preds[1].error}
    assert preds[0].score > preds[2].score
    assert set(preds[0].to_dict()) == {"id", "score", "label"}
    assert preds[2].faults  # the invented words are marked


def test_evaluation_eval_cli_writes_one_prediction_line_per_input_line(cli, tmp_path, fake_backend):
    path = tmp_path / "recs.jsonl"
    lines = [
        json.dumps({"id": "a", "doc": "The mayor opened the bridge on Monday.", "summary": "The mayor opened the bridge.",
                    "label": 1, "dataset": "frank"}),
        "{broken",
        json.dumps({"id": "c", "doc": "The mayor opened the bridge.", "summary": "The king sold a castle.",
                    "label": 0, "dataset": "frank", "spans": [{"start": 4, "end": 8}]}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    res = cli("eval", str(path), "--backend", fake_backend, "--predictions", str(out), "--format", "json")
    assert res.exit_code == 0, res.stderr
    preds = [json.loads(x) for x in out.read_text().splitlines()]
    assert [p["id"] for p in preds] == ["a", None, "c"]
    assert "error" in preds[1] and set(preds[0]) == {"id", "score", "label"}
    body = json.loads(res.stdout)
    frank = [r for r in body["rows"] if r["dataset"] == "frank"][0]
    assert frank["n"] == 2 and frank["auc"] == 1.0 and frank["span_f1"] is not None


def test_evaluation_calibrate_cli_writes_a_file_check_can_use(cli, tmp_path, fake_backend):
    path = tmp_path / "recs.jsonl"
    recs = []
    for i in range(12):
        recs.append({"id": f"p{i}", "doc": f"The mayor opened bridge number {i} on Monday.",
                     "summary": f"The mayor opened bridge number {i}.", "label": 1})
        recs.append({"id": f"n{i}", "doc": f"The mayor opened bridge number {i} on Monday.",
                     "summary": f"The king sold castle number {i}.", "label": 0})
    path.write_text("\n".join(json.dumps(r) for r in recs) + "\n", encoding="utf-8")
    out = tmp_path / "cal.json"
    res = cli("calibrate", str(path), "--backend", fake_backend, "-o", str(out))
    assert res.exit_code == 0, res.stderr
    cal = Calibrator.load(out)
    assert cal.features[0] == "margin"  # a judge without a combiner of its own is read by its margin
    # the judge's vetoes are fitted with it and saved beside its weights
    from verisum.evaluation import VETO_GRID

    assert set(json.loads(out.read_text())["vetoes"]) == {"contradicted", "unsupported"} and cal.vetoes in VETO_GRID
    assert f"vetoes: {cal.vetoes}" in res.stdout  # the user is told what was fitted, vetoes included
    from verisum.checker import Checker

    checker = Checker(fake_backend, calibration=out)
    good = checker.check("The mayor opened bridge number 3 on Monday.", "The mayor opened bridge number 3.")
    bad = checker.check("The mayor opened bridge number 3 on Monday.", "The king sold castle number 3.")
    assert good.ok and not bad.ok
    assert good.threshold == cal.threshold


def test_evaluation_bench_article_is_about_500_words():
    from verisum.evaluation import bench_article as _bench_article, rotate_article as _rotate

    article, highlights = _bench_article()
    assert 480 <= len(article.split()) <= 560
    assert len(highlights) == 3
    # each highlight rewords an article sentence (no verbatim shortcut); the last invents a clause
    assert all(h not in article for h in highlights)
    assert [h.removesuffix(", officials said.") in article for h in highlights] == [True, True, False]
    base, _, clause = highlights[2].partition(", delighting")
    assert base + "." in article and clause  # a real sentence with an invented clause appended
    # variants share no sentence with each other, so no cache can carry one check to the next
    from verisum.document import Document

    one, two = (set(s.text for s in Document(_rotate(article, k)).sentences) for k in (1, 2))
    assert not one & two


def test_cli_bench_measures_each_model_in_its_own_process(cli):
    from verisum.judges.embedded import DEFAULT_MODEL_DIR

    args = ("--records", "2", "--runs", "1", "--long-words", "0", "--no-cold-start", "--json")
    res = cli("bench", "--model", "fast", "--model", str(DEFAULT_MODEL_DIR), "--premises", "joined", *args)
    assert res.exit_code == 0, res.stderr
    figures = json.loads(res.stdout)
    assert list(figures) == ["fast", str(DEFAULT_MODEL_DIR)]
    for m, r in figures.items():
        assert r["model"] == m and r["latency_median_ms"] > 0 and r["batch_records"] == 2
        assert r["premises"] == "joined"  # the rule reaches each model's own process
    one = json.loads(cli("bench", "--model", "fast", *args).stdout)
    assert one["premises"] == "join_first"  # the model's own rule, said
    res = cli("bench", "--model", "fast", "--model", "accurate", *args)
    assert res.exit_code == 2 and "bench --model accurate failed" in res.stderr
