"""The leave-one-dataset-out protocol on collected rows (no model runs)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from verisum import lodo


def _rows(seed: int = 0, datasets=("a", "b", "c"), n: int = 60):
    """Rows whose judge signal separates the labels, with a 'novel_share' that means nothing
    in set 'c' and the right thing elsewhere, and a floor cosine that is noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for ds in datasets:
        for i in range(n):
            label = int(i % 3 != 0)
            claims = []
            for k in range(2):
                sup = rng.normal(1.5 if label else -1.0, 1.0)
                novel = rng.uniform(0, 0.2) if (label or ds == "c") else rng.uniform(0.2, 0.6)
                claims.append({"sent": k, "start": 10 * k, "end": 10 * k + 9, "sent_start": 10 * k,
                               "sent_end": 10 * k + 9, "verbatim": False,
                               "features": {"logit_supported": sup, "logit_contradicted": -sup, "margin": 2 * sup,
                                            "novel_share": novel, "novel_ents": 0.0, "novel_nums": 0.0,
                                            "align_mean": 0.5, "emb_best": 0.5},
                               "faults": [[10 * k, 10 * k + 2]], "novel": [[10 * k + 5, 10 * k + 7]]})
            rows.append({"id": f"{ds}{i}", "dataset": ds, "label": label, "claims": claims,
                         "spans": [[0, 2]] if not label else [], "floor": float(rng.uniform())})
    return rows


def test_lodo_never_fits_on_the_set_it_scores(monkeypatch):
    seen = []
    real = lodo.fit_combiner

    def spy(rows, features, **kw):
        seen.append({r["dataset"] for r in rows})
        return real(rows, features, **kw)

    monkeypatch.setattr(lodo, "fit_combiner", spy)
    table, scored = lodo.evaluate(_rows(), "nli")
    assert [r.dataset for r in table] == ["a", "b", "c"]
    assert seen == [{"b", "c"}, {"a", "c"}, {"a", "b"}]
    assert set(scored) == {"a", "b", "c"} and all(len(v) == 60 for v in scored.values())


def test_lodo_reports_the_checker_the_floor_and_the_baseline_side_by_side():
    table, _ = lodo.evaluate(_rows(), "nli")
    for row in table:
        assert row.balanced_accuracy > 0.8 and row.auc > 0.9  # the judge signal carries over
        assert row.floor_auc < 0.75  # the floor is noise here
        assert row.span_f1 is not None and row.baseline_span_f1 == 0.0  # the baseline's spans miss
        d = row.to_dict()
        assert set(d) >= {"balanced_accuracy", "floor_balanced_accuracy", "baseline_span_f1", "features"}
    text = lodo.format_lodo({"nli": table})
    assert "floor BAcc" in text and "vetoes" in text
    assert all(f"{r.threshold:.4f}" in text for r in table)


def test_lodo_fit_drops_a_signal_that_comes_out_the_wrong_way_round():
    rows = _rows()
    for r in rows:  # novelty made to rise with faithfulness: against its meaning
        for c in r["claims"]:
            c["features"]["novel_share"] = 0.5 * r["label"] + 0.01 * c["features"]["logit_supported"]
    cal = lodo.fit(rows, "nli+novelty")
    assert "novel_share" not in cal.features
    assert "margin" in cal.features


def test_lodo_reads_a_cache_collected_before_the_margin(tmp_path):
    rows = _rows()
    for r in rows:
        for c in r["claims"]:
            del c["features"]["margin"]
    path = tmp_path / "rows.jsonl"
    lodo.write_rows(str(path), rows)
    again = lodo.read_rows(str(path))
    f = again[0]["claims"][0]["features"]
    assert f["margin"] == pytest.approx(f["logit_supported"] - f["logit_contradicted"], abs=1e-5)
    table, _ = lodo.evaluate(again, "nli")
    assert len(table) == 3


def test_lodo_summary_score_is_the_mean_over_sentences_of_the_weakest_claim():
    from verisum.calibration import Calibrator

    row = {"claims": [{"sent": 0, "features": {"supported": 0.9}}, {"sent": 0, "features": {"supported": 0.3}},
                      {"sent": 1, "features": {"supported": 0.7}}]}
    score, weakest = lodo.summary_score(row, Calibrator())
    assert score == pytest.approx((0.3 + 0.7) / 2) and weakest == pytest.approx(0.3)


def test_lodo_threshold_table_counts_flagged_unfaithful_summaries():
    scored = {"x": [(0.2, 0.2, 0), (0.9, 0.9, 1), (0.45, 0.45, 1), (0.6, 0.6, 0)]}
    (row,) = lodo.threshold_table(scored, thresholds=(0.5,))
    assert row["flag_precision"] == 0.5 and row["flag_recall"] == 0.5 and row["faithful_passed"] == 0.5


def test_lodo_eval_cli_collects_once_and_reports_every_left_out_set(cli, tmp_path, fake_backend):
    import json

    files = []
    for ds in ("alpha", "beta"):
        path = tmp_path / f"{ds}.jsonl"
        recs = []
        for i in range(6):
            doc = f"The mayor opened bridge number {i} on Monday. The council paid for it."
            recs.append({"id": f"{ds}p{i}", "dataset": ds, "doc": doc, "summary": f"The mayor opened bridge number {i}.",
                         "label": 1})
            recs.append({"id": f"{ds}n{i}", "dataset": ds, "doc": doc, "summary": f"The king sold castle number {i}.",
                         "label": 0, "spans": [{"start": 4, "end": 8}]})
        path.write_text("\n".join(json.dumps(r) for r in recs) + "\n", encoding="utf-8")
        files.append(path)
    rows = tmp_path / "rows.jsonl"
    res = cli("eval", *files, "--backend", fake_backend, "--rows", rows, "--variant", "nli", "--format", "json")
    assert res.exit_code == 0, res
    out = json.loads(res.stdout)
    assert out["protocol"] == "lodo" and out["records"] == 24
    assert [r["dataset"] for r in out["variants"]["nli"]] == ["alpha", "beta"]
    assert len(rows.read_text(encoding="utf-8").splitlines()) == 24
    # a second run reads the cached rows: the same table, no model needed
    again = cli("eval", *files, "--backend", "no-such-backend", "--rows", rows, "--variant", "nli", "--format", "json")
    assert again.exit_code == 0 and json.loads(again.stdout)["variants"] == out["variants"]
    text = cli("eval", *files, "--rows", rows, "--variant", "nli")
    assert "floor BAcc" in text.stdout and "t=0.5" in text.stdout
    # a cache serves a part of what it was collected on, and refuses records it never saw
    third = tmp_path / "gamma.jsonl"
    third.write_text(files[0].read_text(encoding="utf-8").replace("alpha", "gamma"), encoding="utf-8")
    part = cli("eval", files[1], third, "--backend", "no-such-backend", "--rows", rows, "--variant", "nli")
    assert part.exit_code == 2 and "no row for 12 of the 24 records" in part.stderr and "gamma" in part.stderr
    sub = cli("eval", *files, "--split", "val", "--rows", rows, "--variant", "nli", "--format", "json")
    assert sub.exit_code == 0 and 0 < json.loads(sub.stdout)["records"] < 24


def test_lodo_eval_cli_unknown_variant_and_single_dataset_are_clear_errors(cli, tmp_path, fake_backend):
    import json

    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"id": "a", "dataset": "x", "doc": "The mayor opened a bridge.",
                                "summary": "The mayor opened a bridge.", "label": 1}) + "\n", encoding="utf-8")
    res = cli("eval", path, "--protocol", "lodo", "--backend", fake_backend)
    assert res.exit_code == 2 and "two or more datasets" in res.stderr
    res = cli("eval", path, path, "--variant", "bogus", "--backend", fake_backend)
    assert res.exit_code == 2 and "unknown variant 'bogus'" in res.stderr


def test_lodo_premise_rule_reads_only_the_join_where_it_settles():
    row = {"id": "x", "dataset": "a", "label": 1, "claims": [
        {"sent": 0, "verbatim": False, "features": {"logit_supported": 0.0, "max_contradicted": 0.0},
         # singles (0) then the join (1): [is_join, supported, contradicted, unsupported]
         "premises": [[0, 0.10, 0.85, 0.05], [0, 0.95, 0.01, 0.04], [1, 0.90, 0.05, 0.05]]},
        {"sent": 1, "verbatim": False, "features": {"logit_supported": 0.0, "max_contradicted": 0.0},
         "premises": [[0, 0.70, 0.10, 0.20], [1, 0.40, 0.30, 0.30]]},
    ]}
    every, = lodo.premise_rule([row], "sentences")
    lazy, = lodo.premise_rule([row], "join_first")
    # claim 0: the join settles it (0.90 - 0.05 >= 0.8): only the join is read
    assert lazy["claims"][0]["pairs"] == 1 and every["claims"][0]["pairs"] == 3
    assert lazy["claims"][0]["features"]["supported"] == 0.90
    assert lazy["claims"][0]["features"]["max_contradicted"] == 0.05
    assert every["claims"][0]["features"]["supported"] == 0.95  # the best single sentence
    assert every["claims"][0]["features"]["max_contradicted"] == 0.85  # and the contradicting one
    # claim 1: the join does not settle it: every premise is read under both rules
    assert lazy["claims"][1]["pairs"] == every["claims"][1]["pairs"] == 2
    assert lazy["claims"][1]["features"] == every["claims"][1]["features"]
    assert lazy["claims"][1]["features"]["logit_supported"] == pytest.approx(np.log(0.7 / 0.3))
    # "joined" reads the join alone, settled or not
    joined, = lodo.premise_rule([row], "joined")
    assert [c["pairs"] for c in joined["claims"]] == [1, 1]
    assert joined["claims"][1]["features"]["supported"] == 0.40


def test_lodo_fault_rules_compare_on_the_same_claims():
    rows = _rows()
    for r in rows:
        for c in r["claims"]:
            c["blamed"] = [[c["start"], c["start"] + 2]]  # the annotated span in set rows
            c["novel_checker"] = [[c["start"] + 5, c["start"] + 7]]
            c["premises"] = [[1, 0.2, 0.1, 0.7]]
    rules = lodo.fault_rules(rows, "nli")
    assert set(rules) == {"a", "b", "c"}
    for f in rules.values():
        assert set(f) == {"novel first", "novel + blamed", "blamed only", "baseline"}
        assert f["blamed only"] > f["novel + blamed"] > f["novel first"] == 0.0


def _rows_with_premises():
    """Rows whose single-sentence premises separate the labels while their joins say nothing:
    the premise rule a combiner is fitted for changes what it learns."""
    rows = _rows()
    rng = np.random.default_rng(1)
    for r in rows:
        for c in r["claims"]:
            single = 0.9 if r["label"] else 0.1
            join = float(rng.uniform(0.3, 0.7))
            c["premises"] = [[0, single, 0.05, 0.95 - single], [1, join, 0.1, 0.9 - join]]
    return rows


@pytest.mark.parametrize("rule", ["joined", "sentences"])
def test_train_combiner_fits_for_the_premise_rule_it_is_given_and_records_it(tmp_path, capsys, rule):
    from verisum.training import combiner

    rows_path, out = tmp_path / "rows.jsonl", tmp_path / "combiner.json"
    lodo.write_rows(str(rows_path), _rows_with_premises())
    assert combiner.main(["--rows", str(rows_path), "--variant", "nli", "--premises", rule, "--out", str(out)]) == 0
    state = json.loads(out.read_text(encoding="utf-8"))
    assert state["premises"] == rule and "join_settles" not in state
    # the packaged fast model reads its premises "join first": fitting for another rule says so
    assert "set \"premises\": \"" + rule + "\" in its config.json" in capsys.readouterr().err
    table = {r["dataset"]: r["balanced_accuracy"] for r in state["lodo"]}
    if rule == "joined":  # the joins carry no signal: the left-out sets are read at chance
        assert max(table.values()) < 70
    else:  # the best premise is the single sentence, which separates the labels
        assert min(table.values()) > 90


def test_train_combiner_defaults_to_the_premise_rule_the_model_reads(tmp_path, capsys):
    from verisum.checker import DEFAULT_PREMISES
    from verisum.training import combiner

    rows_path, out = tmp_path / "rows.jsonl", tmp_path / "combiner.json"
    lodo.write_rows(str(rows_path), _rows_with_premises())
    assert combiner.main(["--rows", str(rows_path), "--variant", "nli", "--out", str(out)]) == 0
    state = json.loads(out.read_text(encoding="utf-8"))
    assert state["premises"] == DEFAULT_PREMISES and "premises" not in capsys.readouterr().err


def _vetoed_rows(confident_and_right: bool, n: int = 60):
    """Rows where the judge reads every claim as unsupported with P 0.85 or 0.15, a margin
    that separates the labels, and (``confident_and_right``) the confident reading on the
    unfaithful summaries only, or on half of each class (a judge its veto misleads)."""
    rows = []
    for ds in ("a", "b", "c"):
        for i in range(n):
            label = int(i % 2 == 0)
            weak = (i % 4 in (0, 1)) if not confident_and_right else (label == 0 and i % 3 != 0)
            margin = (1.0 if label else -1.0) * (1.0 if i % 5 else 0.3)
            f = {"margin": margin, "novel_share": 0.1, "novel_ents": 0.0, "novel_nums": 0.0,
                 "unsupported": 0.85 if weak else 0.15, "max_contradicted": 0.05}
            rows.append({"id": f"{ds}{i}", "dataset": ds, "label": label, "floor": 0.5, "spans": None,
                         "claims": [{"sent": 0, "verbatim": False, "features": f, "faults": [], "novel": []}]})
    return rows


def test_lodo_fit_switches_off_a_veto_that_misleads_and_keeps_the_defaults_otherwise(monkeypatch):
    from verisum.calibration import Vetoes
    from verisum.evaluation import fit_vetoes

    misled = lodo.fit(_vetoed_rows(confident_and_right=False), "nli")
    assert misled.vetoes.unsupported is None or misled.vetoes.unsupported > 0.85
    right = lodo.fit(_vetoed_rows(confident_and_right=True), "nli")
    assert right.vetoes == Vetoes()  # the veto only ever fires on unfaithful summaries here
    # the defaults stand unless another pair reads at least min_gain better
    rows = _vetoed_rows(confident_and_right=False)
    assert fit_vetoes(rows, misled, min_gain=1.01) == Vetoes()
    table, _ = lodo.evaluate(_vetoed_rows(confident_and_right=False), "nli")
    assert all(r.to_dict()["vetoes"]["unsupported"] is None or r.vetoes[1] > 0.85 for r in table)
    assert any(line.rstrip().endswith(("/-", "/0.9")) for line in lodo.format_lodo({"nli": table}).splitlines())
    # each left-out set reads better than with the defaults the fit declined
    monkeypatch.setattr(lodo, "fit_vetoes", lambda rows, cal, **kw: Vetoes())
    fixed, _ = lodo.evaluate(_vetoed_rows(confident_and_right=False), "nli")
    assert all(r.vetoes == (0.5, 0.8) for r in fixed)
    assert all(a.balanced_accuracy > b.balanced_accuracy + 0.1 for a, b in zip(table, fixed))
