"""Calibrator: logistic regression over named features, threshold, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from verisum.calibration import Calibrator, Vetoes


def _data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x1 = y * 1.5 + rng.normal(0, 1, n)
    x2 = rng.normal(0, 1, n)  # noise
    return [{"a": float(u), "b": float(v)} for u, v in zip(x1, x2)], y.tolist()


def test_calibration_unfitted_passes_supported_through():
    cal = Calibrator()
    assert not cal.fitted
    assert cal.score({"supported": 0.37}) == pytest.approx(0.37)


def test_calibration_fit_learns_the_informative_feature():
    X, y = _data()
    cal = Calibrator(("a", "b")).fit(X, y)
    assert cal.coef_[0] > 1.0 and cal.coef_[0] > 3 * abs(cal.coef_[1])
    s = cal.score_many(X)
    assert s[np.array(y) == 1].mean() > s[np.array(y) == 0].mean() + 0.2


def test_calibration_sample_weight_shifts_the_intercept():
    X, y = _data()
    w = [5.0 if t == 1 else 1.0 for t in y]
    plain = Calibrator(("a",)).fit(X, y)
    weighted = Calibrator(("a",)).fit(X, y, sample_weight=w)
    assert weighted.intercept_ > plain.intercept_ + 0.5


def test_calibration_fit_needs_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        Calibrator(("a",)).fit([{"a": 1.0}, {"a": 2.0}], [1, 1])


def test_calibration_missing_feature_is_a_clear_error():
    X, y = _data()
    cal = Calibrator(("a", "b")).fit(X, y)
    with pytest.raises(ValueError, match="feature 'b' is missing"):
        cal.score({"a": 1.0})


def test_calibration_fit_threshold_maximises_balanced_accuracy():
    scores = [0.1, 0.2, 0.3, 0.6, 0.7, 0.8]
    labels = [0, 0, 0, 1, 1, 1]
    cal = Calibrator().fit_threshold(scores, labels)
    assert 0.3 < cal.threshold <= 0.6


def test_calibration_fit_threshold_by_group_weighs_groups_equally():
    # Pooled, the big group decides (0.45); by group, the small group counts as much and
    # the threshold moves to where both do well (0.55).
    scores = [0.4] * 50 + [0.6] * 50 + [0.45] * 5 + [0.5] * 3 + [0.55] * 3
    labels = [0] * 50 + [1] * 50 + [1] * 5 + [0] * 3 + [1] * 3
    groups = ["big"] * 105 + ["small"] * 6
    pooled = Calibrator().fit_threshold(scores, labels).threshold
    grouped = Calibrator().fit_threshold(scores, labels, groups=groups).threshold
    assert pooled == pytest.approx(0.45)
    assert grouped == pytest.approx(0.55)


def test_calibration_json_round_trip(tmp_path):
    X, y = _data()
    cal = Calibrator(("a", "b"), l2=0.5).fit(X, y).fit_threshold(Calibrator(("a", "b")).fit(X, y).score_many(X), y)
    path = tmp_path / "cal.json"
    cal.save(path)
    back = Calibrator.load(path)
    assert back.features == ("a", "b") and back.threshold == cal.threshold
    np.testing.assert_allclose(back.score_many(X), cal.score_many(X))


def test_calibration_rejects_non_finite_threshold():
    with pytest.raises(ValueError):
        Calibrator.from_json('{"features": ["supported"], "threshold": NaN}')


def test_best_threshold_worst_objective_holds_on_every_group():
    """Kinds of data whose best thresholds differ (multi-sentence summaries score lower): the
    mean objective serves them on average, the worst objective the one that falls furthest;
    each is the brute-force best of its objective."""
    import numpy as np

    from verisum.calibration import best_threshold

    rng = np.random.RandomState(0)
    s, y, g = [], [], []
    for name, shift, n in (("one-liners", 0.2, 60), ("multi", -0.15, 40), ("small", 0.05, 12)):
        labels = rng.rand(n) < 0.5
        scores = np.clip(0.5 + shift + np.where(labels, 0.12, -0.12) + 0.15 * rng.randn(n), 0, 1)
        s += np.round(scores, 3).tolist()
        y += labels.astype(int).tolist()
        g += [name] * n

    def accs(t: float) -> list[float]:
        out = []
        for name in sorted(set(g)):
            pos = [x >= t for x, lab, gg in zip(s, y, g) if gg == name and lab == 1]
            neg = [x < t for x, lab, gg in zip(s, y, g) if gg == name and lab == 0]
            out.append((sum(pos) / len(pos) + sum(neg) / len(neg)) / 2)
        return out

    cands = sorted(set(s)) + [max(s) + 1e-4]
    t_mean, v_mean = best_threshold(s, y, g)
    t_worst, v_worst = best_threshold(s, y, g, objective="worst")
    assert v_mean == pytest.approx(max(np.mean(accs(t)) for t in cands)) == pytest.approx(np.mean(accs(t_mean)))
    assert v_worst == pytest.approx(max(min(accs(t)) for t in cands)) == pytest.approx(min(accs(t_worst)))
    assert min(accs(t_worst)) > min(accs(t_mean))  # the two objectives disagree on these data
    assert np.mean(accs(t_mean)) >= np.mean(accs(t_worst))
    with pytest.raises(ValueError):
        best_threshold(s, y, g, objective="median")


def test_calibration_vetoes_round_trip_and_default_for_older_files():
    cal = Calibrator(("a", "b"), vetoes=Vetoes(contradicted=0.9, unsupported=None)).fit(*_data())
    again = Calibrator.from_json(cal.to_json())
    assert again.vetoes == Vetoes(contradicted=0.9, unsupported=None)
    state = json.loads(cal.to_json())
    del state["vetoes"]  # a file written before the vetoes were the combiner's
    assert Calibrator.from_json(json.dumps(state)).vetoes == Vetoes() == Vetoes(0.5, 0.8)
    assert str(again.vetoes) == "contradicted 0.9, unsupported off"  # as calibrate prints them


@pytest.mark.parametrize("bad", [{"contradicted": 1.5}, {"unsupported": "high"}, {"contradicted": True}, [0.5, 0.8]])
def test_calibration_rejects_vetoes_that_are_not_probabilities(bad):
    state = {"features": ["supported"], "threshold": 0.5, "vetoes": bad}
    with pytest.raises(ValueError, match="veto"):
        Calibrator.from_json(json.dumps(state))
