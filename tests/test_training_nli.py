"""The NLI trainer's pieces: 2-way rows train supported-vs-not only, seeded length batches, and
the compact warm start that a fresh machine continues from."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the [train] / [hf] extra

from verisum.training import nli  # noqa: E402


def test_nli_read_rows_maps_labels_and_both_claim_keys(tmp_path):
    path = tmp_path / "pairs.jsonl"
    rows = [
        {"premise": "P1", "hypothesis": "H1", "label": "supported", "classes": 3, "dataset": "x"},
        {"premise": "P2", "claim": "H2", "label": "contradicted", "classes": 3},
        {"premise": "P3", "hypothesis": "H3", "label": "not_supported", "classes": 2, "dataset": "y"},
        {"premise": "", "hypothesis": "H4", "label": "supported", "classes": 3},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    got = nli.read_rows([str(tmp_path)])
    assert [(r["claim"], r["y"]) for r in got] == [("H1", 0), ("H2", 1), ("H3", nli.NOT_SUPPORTED)]


def test_nli_two_way_rows_leave_the_split_of_not_supported_free():
    logits = torch.tensor([[0.0, 3.0, -3.0], [0.0, -3.0, 3.0]], requires_grad=True)
    y = torch.tensor([nli.NOT_SUPPORTED, nli.NOT_SUPPORTED])
    loss = nli.mixed_loss(logits, y, smoothing=0.0)
    # Both rows put nearly all mass on "not supported": the loss is the same, whichever of
    # contradicted / unsupported holds it.
    expected = -math.log(1 - 1 / (1 + math.exp(3) + math.exp(-3)))
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_nli_three_way_rows_are_cross_entropy():
    logits = torch.tensor([[2.0, 0.0, 0.0]])
    loss = nli.mixed_loss(logits, torch.tensor([0]), smoothing=0.0)
    assert loss.item() == pytest.approx(torch.nn.functional.cross_entropy(logits, torch.tensor([0])).item())


def test_nli_batches_are_seeded_cover_every_pair_once_and_group_lengths():
    lengths = np.random.default_rng(0).integers(5, 120, size=1000)
    a = nli.make_batches(lengths, 16, seed=3)
    b = nli.make_batches(lengths, 16, seed=3)
    assert all((x == y).all() for x, y in zip(a, b))
    flat = np.concatenate(a)
    assert sorted(flat.tolist()) == list(range(1000))
    spread = np.mean([lengths[x].max() - lengths[x].min() for x in a])
    assert spread < 20  # similar lengths together: little padding


def test_nli_warm_start_round_trip_is_compact_and_exact(tmp_path):
    pytest.importorskip("transformers")
    from verisum.training.trainer import DEFAULT_BASE

    _, model = nli.build_model(DEFAULT_BASE)
    with torch.no_grad():
        model.classifier.weight.add_(0.5)
    path = tmp_path / "warm.pt"
    torch.save({"weights": nli.trainable_state(model), "meta": {"step": 7}}, path)
    assert path.stat().st_size < 25e6
    _, fresh = nli.build_model(DEFAULT_BASE)
    assert nli.load_warm(fresh, str(path)) == {"step": 7}
    assert torch.allclose(fresh.classifier.weight, model.classifier.weight, atol=1e-2)


def _span_rows(n: int) -> list[dict]:
    return [{"premise": f"Town {i} met on Monday.", "claim": f"Town {i} met on Friday.", "y": 1, "faults": [(14, 20)]}
            for i in range(n)]


def test_held_out_span_pairs_never_train_in_another_copy():
    """A file read PATH:3 repeats its rows, and two files may hold one pair: the fault head's
    held-out pairs are distinct, and none of their copies is among the training rows."""
    rows = _span_rows(300) + _span_rows(100) * 2  # the first 100 pairs three times over
    held, train = nli.split_span_rows(rows, seed=13, n=50)
    key = lambda i: (rows[i]["premise"], rows[i]["claim"])  # noqa: E731
    assert len(held) == len({key(i) for i in held}) == 50
    assert not {key(i) for i in held} & {key(i) for i in train}
    assert len(held) + len(train) < len(rows)  # the other copies of held-out pairs are simply left out
    assert sorted(set(held) | set(train)) == sorted(set(range(len(rows))) - {
        i for i in range(len(rows)) if key(i) in {key(j) for j in held} and i not in held})
    assert nli.split_span_rows(rows, seed=13, n=50) == (held, train)  # seeded


def test_the_old_span_split_is_kept_for_runs_that_began_with_it():
    rows = _span_rows(100) * 3
    held, train = nli.split_span_rows(rows, seed=13, rule="rows", n=50)
    perm = np.random.RandomState(15).permutation(len(rows))  # the trainer's rule before 2026-12-07
    assert held == sorted(perm[:50].tolist()) and train == [i for i in range(len(rows)) if i not in set(held)]
    with pytest.raises(ValueError, match="distinct or rows"):
        nli.split_span_rows(rows, seed=13, rule="pairs")


def test_a_run_that_began_with_the_old_span_split_resumes_on_it(tmp_path):
    from support.tiny_models import tiny_mpnet

    folder = tiny_mpnet(tmp_path / "mpnet")
    (tmp_path / "nli.jsonl").write_text("".join(json.dumps({"premise": f"Town {i} met on Monday.",
                                                            "hypothesis": f"Town {i} met.", "label": "supported"}) + "\n"
                                                for i in range(30)))
    (tmp_path / "spans.jsonl").write_text("".join(json.dumps(
        {"premise": r["premise"], "claim": r["claim"], "label": "contradicted", "faults": [[14, 20]]}) + "\n"
        for r in _span_rows(520)))
    run = tmp_path / "run"
    args = ["--data", str(tmp_path / "nli.jsonl"), "--base", str(folder), "--out", str(run), "--spans",
            f"{tmp_path / 'spans.jsonl'}:2", "--batch-size", "16", "--total-passes", "0.05", "--precision", "fp32",
            "--threads", "1"]
    assert nli.main(args + ["--span-holdout", "rows"]) == 0
    state = torch.load(run / "state.pt", weights_only=False)
    del state["args"]["span_holdout"]  # as a state written before the option existed
    torch.save(state, run / "state.pt")
    assert nli.main(args + ["--resume"]) == 0  # the same split and signature: no "trained on other data"
    assert torch.load(run / "state.pt", weights_only=False)["args"]["span_holdout"] == "rows"
    fresh = tmp_path / "fresh"
    assert nli.main([*args[:4], "--out", str(fresh), *args[6:]]) == 0  # a new run: distinct pairs
    assert torch.load(fresh / "state.pt", weights_only=False)["args"]["span_holdout"] == "distinct"
