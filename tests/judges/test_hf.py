"""The ``hf`` judge on tiny model folders built here; no test touches a hub."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from support.hf_models import build_tiny_classifier  # noqa: E402

from verisum.errors import BackendUnavailable, InputError  # noqa: E402
from verisum.judges import Pair, get_judge  # noqa: E402
from verisum.judges.hf import HF_INSTALL_HINT, HFJudge, map_labels  # noqa: E402

NLI = {0: "entailment", 1: "neutral", 2: "contradiction"}
PAIRS = [
    Pair("The mayor opened the bridge on Monday.", "The mayor opened the bridge."),
    Pair("The mayor opened the bridge on Monday.", "The mayor closed the bridge on Friday."),
    Pair("Prices rose by 3% in May.", "Prices fell by 5% in June, highlighting inflation."),
]


@pytest.fixture(scope="session")
def tiny_nli_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_classifier(tmp_path_factory.mktemp("hf") / "tiny-nli", NLI)


@pytest.fixture(scope="session")
def tiny_reversed_nli_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_classifier(
        tmp_path_factory.mktemp("hf") / "tiny-nli-upper", {0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}
    )


@pytest.fixture(scope="session")
def tiny_faithfulness_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_classifier(tmp_path_factory.mktemp("hf") / "tiny-faith", {0: "consistent", 1: "inconsistent"})


@pytest.fixture(scope="session")
def tiny_generic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_classifier(tmp_path_factory.mktemp("hf") / "tiny-generic", {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})


def _softmax_by_hand(folder: Path, pairs: list[Pair]) -> list[list[float]]:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(str(folder), local_files_only=True).eval()
    out = []
    for p in pairs:
        enc = tok(p.premise, p.hypothesis, return_tensors="pt")
        with torch.no_grad():
            out.append(torch.softmax(model(**enc).logits[0], -1).tolist())
    return out


# -- label mapping (no model needed) -----------------------------------------------------
@pytest.mark.parametrize(
    "id2label, expected",
    [
        ({0: "entailment", 1: "neutral", 2: "contradiction"}, ["supported", "unsupported", "contradicted"]),
        ({0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}, ["contradicted", "unsupported", "supported"]),
        ({0: "Entails", 1: "Not-Entailment"}, ["supported", "unsupported"]),
        ({0: "entailment", 1: "not_entailment"}, ["supported", "unsupported"]),
        ({0: "consistent", 1: "inconsistent"}, ["supported", "unsupported"]),
        ({0: "hallucinated", 1: "faithful"}, ["unsupported", "supported"]),
        ({0: "SUPPORTS", 1: "REFUTES", 2: "NOT ENOUGH INFO"}, ["supported", "contradicted", "unsupported"]),
    ],
)
def test_hf_map_labels_reads_config_names(id2label, expected):
    assert map_labels(id2label) == expected


def test_hf_map_labels_generic_names_require_label_map():
    with pytest.raises(BackendUnavailable, match="only generic label names.*label_map"):
        map_labels({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, model="some/model")


@pytest.mark.parametrize(
    "label_map",
    [
        {"0": "entailment", "1": "neutral", "2": "contradiction"},
        {0: "supported", 1: "unsupported", 2: "contradicted"},
        {"LABEL_0": "ENTAILMENT", "label_1": "neutral", "LABEL_2": "contradiction"},
    ],
)
def test_hf_map_labels_label_map_overrides(label_map):
    assert map_labels({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, label_map) == ["supported", "unsupported", "contradicted"]


@pytest.mark.parametrize(
    "id2label, label_map, message",
    [
        ({0: "positive", 1: "negative"}, None, "cannot map"),
        ({0: "neutral", 1: "contradiction"}, None, "means supported"),
        ({0: "entailment"}, None, "1 output class"),
    ],
)
def test_hf_map_labels_rejects_non_nli_models(id2label, label_map, message):
    with pytest.raises(BackendUnavailable, match=message):
        map_labels(id2label, label_map)


@pytest.mark.parametrize(
    "label_map, message",
    [({"0": "maybe"}, "not one of"), ({"7": "entailment"}, "no class 7"), ({"yes": "entailment"}, "neither")],
)
def test_hf_map_labels_bad_label_map_is_input_error(label_map, message):
    with pytest.raises(InputError, match=message):
        map_labels({0: "entailment", 1: "neutral", 2: "contradiction"}, label_map)


# -- the judge on real (tiny) model folders -----------------------------------------------
def test_hf_judge_probabilities_are_the_models_softmax(tiny_reversed_nli_dir):
    judge = HFJudge(str(tiny_reversed_nli_dir))
    got = judge.judge(PAIRS)
    expected = _softmax_by_hand(tiny_reversed_nli_dir, PAIRS)
    assert judge.labels_ == ["contradicted", "unsupported", "supported"]
    for j, (p_contra, p_neutral, p_entail) in zip(got, expected):
        assert j.supported == pytest.approx(p_entail, abs=1e-5)
        assert j.unsupported == pytest.approx(p_neutral, abs=1e-5)
        assert j.contradicted == pytest.approx(p_contra, abs=1e-5)
        assert j.truncated is False
    # The head is random but not uniform: the test would notice a constant or swapped output.
    assert max(abs(j.supported - j.contradicted) for j in got) > 0.01


def test_hf_judge_two_way_faithfulness_model_never_says_contradicted(tiny_faithfulness_dir):
    judge = HFJudge(str(tiny_faithfulness_dir))
    got = judge.judge(PAIRS)
    expected = _softmax_by_hand(tiny_faithfulness_dir, PAIRS)
    for j, (p_cons, p_incons) in zip(got, expected):
        assert j.contradicted == 0.0
        assert j.supported == pytest.approx(p_cons, abs=1e-5)
        assert j.unsupported == pytest.approx(p_incons, abs=1e-5)


def test_hf_judge_generic_labels_need_label_map(tiny_generic_dir):
    with pytest.raises(BackendUnavailable, match="label_map"):
        HFJudge(str(tiny_generic_dir)).load()
    judge = HFJudge(str(tiny_generic_dir), label_map={"0": "entailment", "1": "neutral", "2": "contradiction"})
    assert len(judge.judge(PAIRS)) == len(PAIRS)


def test_hf_judge_marks_truncated_pairs_and_warns(tiny_nli_dir):
    judge = HFJudge(str(tiny_nli_dir), max_length=32)
    long_premise = "The council met on Tuesday to discuss the budget for the coming year. " * 20
    pairs = [Pair("The council met.", "The council met on Tuesday."), Pair(long_premise, "The council met.")]
    with pytest.warns(UserWarning, match="cut to 32 tokens"):
        got = judge.judge(pairs)
    assert [j.truncated for j in got] == [False, True]


def test_hf_judge_short_pairs_do_not_warn(tiny_nli_dir):
    judge = HFJudge(str(tiny_nli_dir))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = judge.judge(PAIRS)
    assert not any(j.truncated for j in got)


def test_hf_judge_batches_do_not_change_answers(tiny_nli_dir):
    one = HFJudge(str(tiny_nli_dir), batch_size=1).judge(PAIRS)
    many = HFJudge(str(tiny_nli_dir), batch_size=16).judge(PAIRS)
    for a, b in zip(one, many):
        assert a.probs == pytest.approx(b.probs, abs=1e-5)


def test_hf_judge_missing_folder_names_the_path(tmp_path):
    missing = tmp_path / "no" / "such-model"
    with pytest.raises(BackendUnavailable, match="such-model"):
        HFJudge(str(missing)).load()


def test_hf_judge_folder_without_model_names_the_path(tmp_path):
    (tmp_path / "empty-model").mkdir()
    with pytest.raises(BackendUnavailable, match="empty-model"):
        HFJudge(str(tmp_path / "empty-model")).judge(PAIRS)


def test_hf_judge_unknown_hub_id_offline_is_unavailable():
    with pytest.raises(BackendUnavailable, match="no-such-org/no-such-model"):
        HFJudge("no-such-org/no-such-model", local_files_only=True).load()


def test_hf_judge_without_transformers_says_how_to_install(monkeypatch, tiny_nli_dir):
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(BackendUnavailable) as err:
        HFJudge(str(tiny_nli_dir)).load()
    assert HF_INSTALL_HINT in str(err.value)


def test_hf_judge_constructor_does_no_work(tmp_path):
    judge = HFJudge(str(tmp_path / "not-there"))  # nothing is read until load/judge
    assert judge.params()["model"].endswith("not-there")
    assert judge.judge([]) == []


@pytest.mark.parametrize("kwargs", [{"model": ""}, {"model": "x", "max_length": 2}, {"model": "x", "batch_size": 0}])
def test_hf_judge_rejects_bad_settings(kwargs):
    with pytest.raises(InputError):
        HFJudge(**kwargs)


def test_hf_judge_through_the_registry_and_checker(tiny_nli_dir):
    from verisum.checker import Checker

    judge = get_judge("hf", model=str(tiny_nli_dir), max_length=128)
    assert isinstance(judge, HFJudge)
    checker = Checker("hf", judge_params={"model": str(tiny_nli_dir)}, top_k=2)
    result = checker.check(
        "The mayor opened the bridge on Monday. It took three years to build.",
        "- The mayor opened the bridge on Monday.\n- It cost 40 million euros.",
    )
    assert len(result.sentences) == 2
    assert result.meta["judge"]["judge"] == "hf"
    assert result.meta["judge"]["judge_params"]["model"] == str(tiny_nli_dir)
