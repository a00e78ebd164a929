"""An exported model is a warm start: what a fresh machine has when a run's own files are gone.

The weights come back exactly from an fp32 export and to within half a quantisation step from an
int8 one, on a tiny random MPNet with a fault head and on the shipped MiniLM model (against the
warm start committed beside it), and the trainer continues from a model folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("onnx")

from support.tiny_models import tiny_warm_start  # noqa: E402

from verisum.training import export, nli, onnx_weights  # noqa: E402


def _trained_tiny(tmp_path: Path):
    """A tiny MPNet with a fault head whose weights differ from its base, saved as a warm start."""
    return tiny_warm_start(tmp_path, lambda _, p: 0.05 * torch.randn_like(p), seed=1)


@pytest.mark.parametrize("quantize", ["fp32", "int8"])
def test_an_exported_model_gives_back_its_weights(tmp_path, quantize):
    folder, warm, ref = _trained_tiny(tmp_path)
    out = tmp_path / f"exported-{quantize}"
    assert export.main(["--ckpt", str(warm), "--out", str(out), "--quantize", quantize]) == 0

    _, fresh = nli.build_model(str(folder))
    nli.add_fault_head(fresh)
    meta = nli.load_warm(fresh, str(out))
    assert meta["from_onnx"].endswith("model.onnx") and meta["step"] == 40

    want, got = ref.state_dict(), fresh.state_dict()
    checked = 0
    for key, w in want.items():
        if "word_embeddings" in key or key.endswith("position_ids"):
            continue
        diff = (got[key] - w).abs().max().item()
        if quantize == "fp32":
            assert diff < 1e-6, key
        else:  # int8: within half a step of the largest weight of the row
            assert diff <= w.abs().max().item() / 127 + 1e-6, key
        checked += 1
    assert checked > 20  # every layer's linear weights, biases and norms, the head and the fault head
    # and it reads the same pairs the same way
    tok = nli.build_model(str(folder))[0]
    enc = tok(["The council met on Monday.", "Taxes rose."], ["It met on Friday.", "Taxes fell."],
              padding=True, return_tensors="pt")
    enc = {k: enc[k] for k in ("input_ids", "attention_mask")}
    with torch.no_grad():
        a, fa = nli.forward(ref.eval(), enc)
        b, fb = nli.forward(fresh.eval(), enc)
    tol = 1e-4 if quantize == "fp32" else 0.1
    assert torch.allclose(a, b, atol=tol) and torch.allclose(fa, fb, atol=tol)


def test_the_trainer_continues_from_a_model_folder(tmp_path):
    folder, warm, _ = _trained_tiny(tmp_path)
    out = tmp_path / "exported"
    assert export.main(["--ckpt", str(warm), "--out", str(out), "--quantize", "int8"]) == 0
    rows = [{"premise": f"The council of town {i} met on Monday.", "hypothesis": f"Town {i} met.",
             "label": ["supported", "contradicted", "unsupported"][i % 3]} for i in range(1040)]
    (tmp_path / "nli.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = tmp_path / "run"
    assert nli.main(["--data", str(tmp_path / "nli.jsonl"), "--base", str(folder), "--out", str(run),
                     "--init", str(out), "--batch-size", "8", "--total-passes", "0.1", "--precision", "fp32",
                     "--eval-every", "100000"]) == 0
    meta = json.loads((run / "warm.json").read_text())
    # the exported model's pairs are counted as seen (config.json: examples_seen)
    cfg = json.loads((out / "config.json").read_text())
    assert meta["examples_seen"] == cfg["examples_seen"] + meta["step"] * 8
    assert "warm start from" in (run / "train.log").read_text()


def test_the_shipped_model_reads_back_as_its_committed_warm_start():
    """The real artefact: every trained weight of the shipped fast model (int8 ONNX) is found and
    lies within a quantisation step of the warm start committed beside it."""
    from verisum.resources import model_path
    from verisum.training.trainer import DEFAULT_BASE

    folder = model_path("nli-minilm")
    if not (folder / "warm.pt").is_file():
        pytest.skip("the shipped model has no warm start beside it")
    _, model = nli.build_model(DEFAULT_BASE)
    state = onnx_weights.state_from_onnx(model, str(folder / "model.onnx"))
    warm = torch.load(folder / "warm.pt", map_location="cpu", weights_only=False)["weights"]
    assert set(state) == {k for k in warm if not k.startswith("fault_head.")}
    for key, w in warm.items():
        if key in state:
            w = w.float()
            step = w.abs().max().item() / 127  # a per-channel step is at most the tensor's
            assert (state[key] - w).abs().max().item() <= step + 2e-3, key


def test_a_path_that_is_no_model_is_refused(tmp_path):
    assert onnx_weights.model_file(str(tmp_path)) is None
    with pytest.raises(SystemExit, match="neither a model folder"):
        onnx_weights.load_exported(None, str(tmp_path))
    (tmp_path / "model.onnx").write_bytes(b"\x00not a model at all")
    with pytest.raises(SystemExit, match="cannot read the weights"):
        onnx_weights.load_exported(None, str(tmp_path))


def test_per_channel_scales_line_up_with_the_output_columns():
    w = np.array([[1, -2], [3, 4]], dtype=np.int8)
    got = onnx_weights._dequantize(w, np.array([0.5, 2.0], np.float32), np.array([0, 1], np.int8))
    assert np.allclose(got, [[0.5, -6.0], [1.5, 6.0]])
    assert np.allclose(onnx_weights._dequantize(w, np.array(0.5, np.float32), np.array(0, np.int8)), w * 0.5)
