"""The embedded judge: onnxruntime + tokenizers, lazy, clear errors, truncation reported.

The model here is a tiny ONNX graph the test builds (embedding lookup, mean, linear head) with
the packaged tokenizer: it exercises the plumbing, not the quality. The shipped model's quality
is measured by `verisum eval` and scripts/fit_combiner.py.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from verisum.errors import ModelError
from verisum.judges import Pair, get_judge
from verisum.judges.embedded import EmbeddedJudge
from verisum.judges.testing import check_judge

from verisum.encoder import default_tokenizer_path

TOKENIZER = default_tokenizer_path()


def _tiny_model(path: Path, labels=("supported", "contradicted", "unsupported"), max_length: int = 64) -> Path:
    onnx = pytest.importorskip("onnx", reason="building the tiny model needs onnx: pip install 'verisum[train]'")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    vocab, dim = 30522, 8
    emb = numpy_helper.from_array(rng.normal(0, 1, (vocab, dim)).astype(np.float32), "emb")
    head = numpy_helper.from_array(rng.normal(0, 1, (dim, 3)).astype(np.float32), "head")
    axes = numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
    nodes = [
        helper.make_node("Gather", ["emb", "input_ids"], ["h"]),
        helper.make_node("Cast", ["attention_mask"], ["m"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["m", "minus1"], ["m3"]),
        helper.make_node("Mul", ["h", "m3"], ["hm"]),
        helper.make_node("ReduceSum", ["hm", "axes"], ["pooled"], keepdims=0),
        helper.make_node("MatMul", ["pooled", "head"], ["logits"]),
    ]
    minus1 = numpy_helper.from_array(np.array([-1], dtype=np.int64), "minus1")
    graph = helper.make_graph(
        nodes,
        "tiny",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("token_type_ids", TensorProto.INT64, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
        initializer=[emb, head, axes, minus1],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path / "model.onnx"))
    shutil.copy(TOKENIZER, path / "tokenizer.json")
    (path / "config.json").write_text(json.dumps({"labels": list(labels), "max_length": max_length}))
    return path


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    return _tiny_model(tmp_path_factory.mktemp("tiny-nli"))


def test_embedded_passes_the_judge_conformance_checks(tiny_dir):
    check_judge(EmbeddedJudge(tiny_dir))


def test_embedded_constructor_does_no_work(tmp_path):
    judge = EmbeddedJudge(tmp_path / "nowhere")  # nothing is read yet
    assert judge.params()["model_dir"].endswith("nowhere")
    with pytest.raises(ModelError, match="missing model.onnx, tokenizer.json, config.json"):
        judge.judge([Pair("a b c", "a b")])


def test_embedded_corrupt_model_is_a_model_error(tiny_dir, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(tiny_dir, bad)
    (bad / "model.onnx").write_bytes(b"this is not an onnx file")
    with pytest.raises(ModelError, match="cannot load ONNX model"):
        EmbeddedJudge(bad).load()


def test_embedded_unknown_labels_are_a_model_error(tiny_dir, tmp_path):
    bad = tmp_path / "labels"
    shutil.copytree(tiny_dir, bad)
    (bad / "config.json").write_text(json.dumps({"labels": ["yes", "no", "maybe"]}))
    with pytest.raises(ModelError, match="expected the three of"):
        EmbeddedJudge(bad).load()


def test_embedded_label_order_comes_from_the_config(tiny_dir, tmp_path):
    swapped = tmp_path / "swapped"
    shutil.copytree(tiny_dir, swapped)
    (swapped / "config.json").write_text(json.dumps({"labels": ["unsupported", "contradicted", "supported"]}))
    pair = [Pair("The mayor opened the bridge on Monday.", "The mayor opened the bridge.")]
    a = EmbeddedJudge(tiny_dir).judge(pair)[0]
    b = EmbeddedJudge(swapped).judge(pair)[0]
    assert a.supported == pytest.approx(b.unsupported)
    assert a.unsupported == pytest.approx(b.supported)


def test_embedded_long_premise_is_cut_and_reported(tiny_dir):
    judge = EmbeddedJudge(tiny_dir, max_length=32)
    short, long = judge.judge([
        Pair("The mayor opened the bridge.", "The mayor opened it."),
        Pair(" ".join(["The council discussed the budget again."] * 40), "The council discussed the budget."),
    ])
    assert not short.truncated
    assert long.truncated


def test_embedded_claim_is_never_cut(tiny_dir):
    judge = EmbeddedJudge(tiny_dir, max_length=22).load()
    claim = "The mayor of the town opened the new bridge over the river."
    enc, cut = judge._encode([Pair("Some premise words here that run on and on and on.", claim)])[0]
    assert cut
    assert judge._tokenizer.decode(enc.ids).endswith("the new bridge over the river.")


def test_embedded_batches_give_the_same_answers_as_one_at_a_time(tiny_dir):
    pairs = [Pair("a b c d e f g", "a b"), Pair("x " * 50, "y"), Pair("The mayor spoke.", "The mayor spoke on Monday.")]
    judge = EmbeddedJudge(tiny_dir, batch_size=2)
    together = judge.judge(pairs)
    alone = [judge.judge([p])[0] for p in pairs]
    for t, a in zip(together, alone):
        assert t.supported == pytest.approx(a.supported, abs=1e-5)


def test_embedded_parallel_calls_give_the_same_answers_in_order(tiny_dir):
    pairs = [Pair(f"word{i} " * (i + 1), f"word{i}") for i in range(12)]
    serial = EmbeddedJudge(tiny_dir, workers=1).judge(pairs)
    parallel_judge = EmbeddedJudge(tiny_dir, workers=4)
    parallel = parallel_judge.judge(pairs)
    assert parallel_judge._pool is not None  # the calls really went through the pool
    assert [p.probs for p in parallel] == [s.probs for s in serial]


def test_embedded_registry_builds_it_with_typed_params(tiny_dir):
    judge = get_judge("embedded", model_dir=str(tiny_dir), intra_op_num_threads=1)
    assert isinstance(judge, EmbeddedJudge)
    assert judge.intra_op_num_threads == 1


def test_embedded_custom_folder_without_combiner_has_no_calibrator(tiny_dir):
    assert EmbeddedJudge(tiny_dir).calibrator() is None


def test_embedded_companions_share_one_encoder(tiny_dir):
    judge = EmbeddedJudge(tiny_dir)
    assert judge.retriever().encoder is judge.encoder()
    assert judge.retriever() is judge.retriever()


def test_embedded_import_verisum_loads_no_onnxruntime():
    import subprocess

    code = "import sys, verisum; verisum.Checker(); print('onnxruntime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_embedded_packaged_model_separates_support_from_invention():
    judge = EmbeddedJudge()
    premise = "The mayor opened the new bridge on Monday after three years of construction."
    good, bad = judge.judge([
        Pair(premise, "The mayor opened the new bridge on Monday."),
        Pair(premise, "The mayor closed the old bridge on Friday."),
    ])
    assert good.supported > bad.supported


def test_embedded_combiner_fitted_for_another_model_warns(tiny_dir, tmp_path):
    folder = tmp_path / "stale"
    shutil.copytree(tiny_dir, folder)
    from verisum.calibration import Calibrator

    cal = Calibrator(("logit_supported",))
    cal.fit([{"logit_supported": x} for x in (-2.0, -1.0, 1.0, 2.0)], [0, 0, 1, 1])
    state = json.loads(cal.to_json())
    (folder / "combiner.json").write_text(json.dumps(dict(state, model_sha256="0" * 64)))
    with pytest.warns(UserWarning, match="fitted for another model"):
        assert EmbeddedJudge(folder).calibrator().fitted
    from verisum.judges.embedded import model_fingerprint

    (folder / "combiner.json").write_text(json.dumps(dict(state, model_sha256=model_fingerprint(folder))))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EmbeddedJudge(folder).calibrator()


def test_embedded_encoder_choice_brings_its_retriever_and_combiner():
    from verisum.encoder import Encoder, StaticEncoder
    from verisum.errors import InputError
    from verisum.judges.embedded import COMBINERS

    fast, exact = EmbeddedJudge(), EmbeddedJudge(encoder="minilm")
    assert isinstance(fast.encoder(), StaticEncoder) and fast.retriever().shortlist is None
    assert isinstance(exact.encoder(), Encoder) and exact.retriever().shortlist == 8
    for judge, name in ((fast, "static"), (exact, "minilm")):
        assert json.loads(COMBINERS[name].read_text())["encoder"] == name
        assert judge.calibrator().features == tuple(json.loads(COMBINERS[name].read_text())["features"])
        assert judge.params()["encoder"] == name
    with pytest.raises(InputError, match="unknown encoder 'bert'"):
        EmbeddedJudge(encoder="bert")


def test_embedded_combiner_fitted_on_another_encoder_warns(tmp_path):
    from verisum.judges.embedded import COMBINERS

    path = tmp_path / "combiner.json"
    path.write_text(COMBINERS["minilm"].read_text())
    with pytest.warns(UserWarning, match="fitted on 'minilm' sentence embeddings"):
        EmbeddedJudge(combiner=path).calibrator()


def test_embedded_model_config_names_its_premise_rule(tiny_dir, tmp_path):
    """A model folder whose config says "premises": "joined" makes a Checker without a rule of
    its own ask once per claim; an explicit rule still wins, and a bad value is a model error."""
    from verisum import Checker

    joined = tmp_path / "joined"
    shutil.copytree(tiny_dir, joined)
    cfg = json.loads((joined / "config.json").read_text())
    (joined / "config.json").write_text(json.dumps({**cfg, "premises": "joined"}))
    assert Checker(judge_params={"model_dir": str(joined)}).load().premises == "joined"
    assert Checker(judge_params={"model_dir": str(tiny_dir)}).load().premises == "join_first"
    assert Checker(judge_params={"model_dir": str(joined)}, premises="sentences").load().premises == "sentences"

    calls: list[int] = []
    judge = EmbeddedJudge(joined)
    judge.load()
    original = judge.judge
    judge.judge = lambda pairs: calls.append(len(pairs)) or original(pairs)  # type: ignore[method-assign]
    source = ("The council approved the budget on Monday. The mayor said the library opens in May. "
              "Rain fell all week in the valley. Schools stayed shut.")
    Checker(judge, occlusion=False, top_k=3).check(source, "The council approved a budget that the mayor praised.")
    assert sum(calls) == 1  # one claim, one premise: the join of its evidence

    assert EmbeddedJudge(joined).declared_premises() == "joined"  # read without loading the model
    assert EmbeddedJudge(tiny_dir).declared_premises() is None

    (joined / "config.json").write_text(json.dumps({**cfg, "premises": "every"}))
    with pytest.raises(ModelError, match="premises"):
        EmbeddedJudge(joined).load()
    with pytest.raises(ModelError, match="premises"):
        EmbeddedJudge(joined).declared_premises()
