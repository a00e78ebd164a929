"""A packed warm start (:mod:`verisum.training.compact`): a fine-tuned model as a low-rank int8
difference from its base, small enough to commit, read back by ``--init`` and the exporter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from support.tiny_models import tiny_mpnet as _tiny_mpnet  # noqa: E402
from support.tiny_models import tiny_warm_start  # noqa: E402

from verisum.training import compact, export, nli  # noqa: E402


def _low_rank_delta(shape: tuple[int, int], rank: int, scale: float = 0.05) -> torch.Tensor:
    return scale * torch.randn(shape[0], rank) @ torch.randn(rank, shape[1]) / rank ** 0.5


def test_a_difference_within_the_rank_comes_back_to_within_int8_rounding():
    torch.manual_seed(0)
    base = {"w": torch.randn(64, 48), "b": torch.randn(48)}
    trained = {"w": base["w"] + _low_rank_delta((64, 48), 3), "b": base["b"] + 0.1, "head": torch.randn(3, 48)}
    packed = compact.pack(trained, base, rank=4)
    assert set(packed["lowrank"]) == {"w"} and set(packed["full"]) == {"b", "head"}
    assert packed["lowrank"]["w"]["a"].dtype == torch.int8 and packed["lowrank"]["w"]["b"].dtype == torch.int8
    back = compact.unpack(packed, base)
    delta = trained["w"] - base["w"]
    assert float((back["w"] - trained["w"]).norm() / delta.norm()) < 0.02
    assert torch.allclose(back["b"], trained["b"], atol=1e-2) and torch.allclose(back["head"], trained["head"], atol=1e-2)
    assert compact.relative_errors(trained, base, packed)["w"] < 0.02


def test_a_higher_rank_misses_less_of_a_full_rank_difference():
    torch.manual_seed(1)
    base = {"w": torch.randn(96, 80)}
    trained = {"w": base["w"] + 0.02 * torch.randn(96, 80)}
    missed = [compact.relative_errors(trained, base, compact.pack(trained, base, rank=r))["w"] for r in (4, 16, 32)]
    assert 0.0 < missed[2] < missed[1] < missed[0] < 1.0


def test_a_matrix_too_small_for_the_rank_is_kept_whole():
    torch.manual_seed(2)
    base = {"w": torch.randn(16, 16)}
    trained = {"w": base["w"] + 0.1}
    packed = compact.pack(trained, base, rank=8)  # 16 is not more than 2 * 8: no saving
    assert "w" in packed["full"] and not packed["lowrank"]


def test_another_base_is_refused():
    torch.manual_seed(3)
    base = {"w": torch.randn(64, 48)}
    packed = compact.pack({"w": base["w"] + _low_rank_delta((64, 48), 2)}, base, rank=4)
    with pytest.raises(ValueError, match="another base"):
        compact.unpack(packed, {"w": 2 * base["w"]})
    with pytest.raises(ValueError, match="another base"):
        compact.unpack(packed, {})
    with pytest.raises(ValueError, match="not a packed warm start"):
        compact.unpack({"weights": {}}, base)
    with pytest.raises(ValueError, match="rank"):
        compact.pack({"w": base["w"]}, base, rank=0)


def _trained_tiny(tmp_path: Path):
    """A tiny MPNet with a fault head, its matrices moved by a rank-2 difference and every other
    weight by noise, saved as a warm start; and the model that warm start reads back as."""
    return tiny_warm_start(
        tmp_path, lambda _, p: _low_rank_delta(tuple(p.shape), 2) if p.dim() == 2 else 0.05 * torch.randn_like(p),
        seed=4, max_length=64)


def _logits(model, folder: Path):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(folder))
    enc = tok(["The council approved the budget on Monday."], ["The budget was approved."], return_tensors="pt")
    enc = {k: v for k, v in enc.items() if k in export.input_names(model)}
    with torch.no_grad():
        return nli.forward(model, enc)


def test_the_trainer_and_the_exporter_read_a_packed_warm_start(tmp_path, capsys):
    folder, warm, ref = _trained_tiny(tmp_path)
    out = tmp_path / "packed" / "nli-tiny.pt"
    assert compact.main(["--ckpt", str(warm), "--out", str(out), "--rank", "4", "--threads", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["bytes"] == out.stat().st_size and report["matrices_low_rank"] > 0
    assert report["missed_movement_max"] < 0.05

    _, fresh = nli.build_model(str(folder))
    nli.add_fault_head(fresh)
    meta = nli.load_warm(fresh, str(out))
    assert meta["step"] == 40 and meta["base_arg"] == str(folder)
    fresh.eval()
    (got, got_faults), (want, want_faults) = _logits(fresh, folder), _logits(ref, folder)
    assert torch.allclose(got, want, atol=0.05) and torch.allclose(got_faults, want_faults, atol=0.05)
    assert not torch.allclose(want, _logits(nli.build_model(str(folder))[1].eval(), folder)[0], atol=0.05)

    model, st = export.load_model(str(out), str(folder))  # the exporter: fault head and length from the file
    assert hasattr(model, "fault_head") and export.trained_max_length(st) == 64


def test_a_packed_warm_start_on_another_base_stops_with_a_message(tmp_path):
    folder, warm, _ = _trained_tiny(tmp_path)
    out = tmp_path / "nli-tiny.pt"
    compact.main(["--ckpt", str(warm), "--out", str(out), "--rank", "4", "--threads", "1"])
    _, other = nli.build_model(str(folder))
    nli.add_fault_head(other)
    with torch.no_grad():
        for p in other.parameters():
            p.mul_(1.5)
    with pytest.raises(SystemExit, match="another base"):
        nli.load_warm(other, str(out))


def test_only_the_weights_the_base_file_holds_are_a_difference(tmp_path):
    """A head the base lacks is initialised at random when the model is built: a difference from
    it could not be undone on another machine, so it is stored whole."""
    from transformers import MPNetModel

    folder = _tiny_mpnet(tmp_path / "mpnet")
    bare = tmp_path / "bare"
    MPNetModel.from_pretrained(str(folder)).save_pretrained(bare)  # the encoder alone, as a real base is
    for f in folder.glob("tokenizer*"):
        (bare / f.name).write_bytes(f.read_bytes())
    base = compact.base_weights(str(bare))
    _, model = nli.build_model(str(bare))
    assert any(k.startswith("mpnet.encoder.") for k in base)
    assert not any(k.startswith("classifier.") for k in base)
    packed = compact.pack(nli.trainable_state(model), base, rank=4)
    assert "classifier.dense.weight" in packed["full"]
    assert any(k.startswith("mpnet.encoder.") for k in packed["lowrank"])


@pytest.mark.parametrize("content", ["a full state", "not torch at all"])
def test_pack_refuses_a_file_that_is_no_warm_start(tmp_path, capsys, content):
    bad = tmp_path / "state.pt"
    if content == "a full state":
        torch.save({"model": {}}, bad)
    else:
        bad.write_bytes(b"\x00\xffnot a checkpoint")
    with pytest.raises(SystemExit) as exc:
        compact.main(["--ckpt", str(bad), "--out", str(tmp_path / "x.pt")])
    assert exc.value.code == 2 and str(bad) in capsys.readouterr().err
    assert not (tmp_path / "x.pt").exists()


#: The MPNet stages committed in packed form (warm/README.md): stage 1, and stage 2r with its fault head.
COMMITTED = {"nli-mpnet-stage1.pt": False, "nli-mpnet-stage2r.pt": True}
WARM = Path(__file__).resolve().parents[1] / "warm"


def test_every_committed_mpnet_stage_is_listed():
    assert {p.name for p in WARM.glob("nli-mpnet-*.pt")} == set(COMMITTED)


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_the_committed_mpnet_stage_is_a_packed_warm_start_under_40_mb(name):
    """What a fresh machine continues MPNet from: packed against all-mpnet-base-v2, every encoder
    matrix as a difference, the trained classifier (and fault head, from stage 2 on) whole, small
    enough to commit."""
    path = WARM / name
    assert path.stat().st_size < 40e6
    st = torch.load(path, map_location="cpu", weights_only=False)
    assert compact.is_packed(st) and st["rank"] == 128
    assert st["meta"]["base"] == "sentence-transformers/all-mpnet-base-v2" and st["meta"]["step"] == st["meta"]["steps_total"]
    layers = {k.split(".")[3] for k in st["lowrank"] if k.startswith("mpnet.encoder.layer.")}
    assert layers == {str(i) for i in range(12)}
    assert {"classifier.dense.weight", "classifier.out_proj.weight"} <= set(st["full"])
    assert ("fault_head.weight" in st["full"]) is COMMITTED[name]
    f = st["lowrank"]["mpnet.encoder.layer.0.attention.attn.q.weight"]
    assert f["a"].shape == (768, 128) and f["b"].shape == (128, 768) and f["a"].dtype == torch.int8


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_the_committed_stage_unpacks_against_the_verified_mpnet_base(name):
    """The base a fresh machine assembles (``verisum train base mpnet``, checked by sha256) is the
    one the committed file was packed against: every matrix's base norm matches. Skipped where the
    base was never assembled (this test never fetches it)."""
    from verisum.training.bases import cache_dir

    folder = cache_dir() / "base" / "all-mpnet-base-v2"
    if not (folder / ".verified").is_file():
        pytest.skip("all-mpnet-base-v2 is not assembled here (verisum train base mpnet)")
    st = torch.load(WARM / name, map_location="cpu", weights_only=False)
    base = compact.base_weights(str(folder))
    weights = compact.unpack(st, base)
    assert set(st["lowrank"]) <= set(base) and not any(k.startswith("classifier.") for k in st["lowrank"])
    name = "mpnet.encoder.layer.11.output.dense.weight"
    moved = float((weights[name] - base[name].float()).norm() / base[name].float().norm())
    assert 0.001 < moved < 0.1  # fine-tuned: moved from the base, by a few percent at most
