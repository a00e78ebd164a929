"""SmoothQuant before dynamic int8: the smoothed graph computes what the original does, an outlier
channel's range moves into the weights, and an int8-smooth export reads back as its weights."""

from __future__ import annotations

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from verisum.training import smoothing  # noqa: E402


def _matmul_graph(path, w: np.ndarray) -> None:
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="/m/dense/MatMul")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", w.shape[0]]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", w.shape[1]])],
        initializer=[numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


def _run(path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(["y"], {"x": x, "attention_mask": np.ones(len(x), np.int64)})[0]


def test_smoothing_keeps_the_function_and_flattens_an_outlier_channel(tmp_path):
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.1, (4, 3)).astype(np.float32)
    x = rng.normal(0, 1, (64, 4)).astype(np.float32)
    x[:, 0] *= 100  # one outlier channel, as after a transformer's GELU
    _matmul_graph(tmp_path / "a.onnx", w)
    ranges = smoothing.activation_ranges(str(tmp_path / "a.onnx"), [{"x": x, "attention_mask": np.ones(64, np.int64)}])
    assert list(ranges) == ["/m/dense/MatMul"]
    assert np.allclose(ranges["/m/dense/MatMul"], np.abs(x).max(0))
    done = smoothing.smooth(str(tmp_path / "a.onnx"), str(tmp_path / "b.onnx"), ranges, alpha=0.5)
    assert done == ["/m/dense/MatMul"]
    assert np.allclose(_run(tmp_path / "a.onnx", x), _run(tmp_path / "b.onnx", x), rtol=1e-4, atol=1e-4)
    inv = {i.name: onnx.numpy_helper.to_array(i) for i in onnx.load(str(tmp_path / "b.onnx")).graph.initializer}
    scaled = np.abs(x * inv["/m/dense/MatMul_smooth_inv"]).max(0)
    # the activation's range is flatter after smoothing (alpha 0.5: about the square root of the
    # spread, 105 -> 11 here): the outlier channel no longer takes the whole int8 scale
    before = np.abs(x).max(0)
    assert scaled.max() / scaled.min() < (before.max() / before.min()) / 5
    with pytest.raises(ValueError, match="alpha"):
        smoothing.smooth(str(tmp_path / "a.onnx"), str(tmp_path / "c.onnx"), ranges, alpha=1.5)


def test_an_int8_smooth_export_reads_back_as_its_weights(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from support.tiny_models import tiny_mpnet

    from verisum.training import export, nli

    folder = tiny_mpnet(tmp_path / "mpnet")
    _, model = nli.build_model(str(folder))
    warm = tmp_path / "warm.pt"
    torch.save({"weights": nli.trainable_state(model), "meta": {"step": 3, "seed": 13, "base_arg": str(folder)}}, warm)
    rows = [{"premise": f"The council of town {i} met on Monday.", "hypothesis": f"Town {i} met.",
             "label": ["supported", "contradicted", "unsupported"][i % 3]} for i in range(1100)]
    data = tmp_path / "nli.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "exported"
    assert export.main(["--ckpt", str(warm), "--out", str(out), "--quantize", "int8-smooth",
                        "--check-held-out", str(data), "--calibration-pairs", "32"]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["quantization"].startswith("SmoothQuant")
    graph = onnx.load(str(out / "model.onnx")).graph
    assert sum(n.name.endswith("_smooth") for n in graph.node) >= 12  # every linear layer of 2 layers
    ref = export.load_model(str(warm), str(folder))[0]
    _, fresh = nli.build_model(str(folder))
    nli.load_warm(fresh, str(out))
    for key, w in ref.state_dict().items():
        if "word_embeddings" in key or key.endswith("position_ids"):
            continue
        assert (fresh.state_dict()[key] - w).abs().max().item() <= w.abs().max().item() / 64 + 1e-6, key
    check = cfg["quantization_check"]["held_out"]["shipped"]
    assert 0.0 <= check["argmax_agreement"] <= 1.0 and check["pairs_per_second"] > 0


def test_int8_smooth_without_calibration_data_is_refused(tmp_path):
    pytest.importorskip("onnxruntime.quantization")
    from verisum.training import export

    w = np.eye(3, dtype=np.float32)
    _matmul_graph(tmp_path / "a.onnx", w)
    with pytest.raises(SystemExit, match="calibration"):
        export.quantize(str(tmp_path / "a.onnx"), str(tmp_path / "b.onnx"), "int8-smooth", [], None)


def _two_matmul_graph(path, w: np.ndarray) -> None:
    from onnx import TensorProto, helper, numpy_helper

    n = w.shape[0]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["y"], name="/m/calm/MatMul"),
         helper.make_node("MatMul", ["z", "w2"], ["v"], name="/m/spiky/MatMul")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", n]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, ["n", n]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", w.shape[1]]),
         helper.make_tensor_value_info("v", TensorProto.FLOAT, ["n", w.shape[1]])],
        initializer=[numpy_helper.from_array(w, "w1"), numpy_helper.from_array(w.copy(), "w2")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


def test_the_matmul_with_an_outlier_channel_is_the_one_kept_fp32(tmp_path):
    pytest.importorskip("onnxruntime.quantization")
    from verisum.training import export

    rng = np.random.default_rng(1)
    w = rng.normal(0, 0.1, (16, 8)).astype(np.float32)
    x = rng.normal(0, 1, (64, 16)).astype(np.float32)
    z = rng.normal(0, 1, (64, 16)).astype(np.float32)
    z[:, 3] *= 60  # one channel far above the rest, as in MPNet's middle feed-forward layers
    feeds = [{"x": x, "z": z, "attention_mask": np.ones(64, np.int64)}]
    _two_matmul_graph(tmp_path / "a.onnx", w)
    ranges = smoothing.activation_ranges(str(tmp_path / "a.onnx"), feeds)
    ratios = smoothing.outlier_ratios(ranges)
    assert ratios["/m/spiky/MatMul"] > 10 * ratios["/m/calm/MatMul"]
    assert smoothing.outlier_matmuls(ranges, 1) == ["/m/spiky/MatMul"]
    assert smoothing.outlier_matmuls(ranges, 0) == []
    assert smoothing.outlier_matmuls(ranges, 5) == ["/m/spiky/MatMul", "/m/calm/MatMul"]
    with pytest.raises(ValueError, match="at least 0"):
        smoothing.outlier_matmuls(ranges, -1)

    kept = export.quantize(str(tmp_path / "a.onnx"), str(tmp_path / "q.onnx"), "int8", [], feeds, keep_outliers=1)
    assert kept == ["/m/spiky/MatMul"]
    ops = {n.name: n.op_type for n in onnx.load(str(tmp_path / "q.onnx")).graph.node}
    assert ops["/m/spiky/MatMul"] == "MatMul"  # left in fp32
    assert "/m/calm/MatMul" not in ops  # replaced by its int8 form
    sess = ort.InferenceSession(str(tmp_path / "q.onnx"), providers=["CPUExecutionProvider"])
    v = sess.run(["v"], feeds[0])[0]
    assert np.allclose(v, z @ w, rtol=1e-4, atol=1e-4)  # the kept MatMul computes exactly
    with pytest.raises(SystemExit, match="calibration"):
        export.quantize(str(tmp_path / "a.onnx"), str(tmp_path / "r.onnx"), "int8", [], None, keep_outliers=1)
