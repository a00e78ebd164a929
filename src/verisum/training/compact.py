"""A warm start small enough to commit: a fine-tuned model as its difference from the base.

A run's full state lives outside the work tree (:mod:`verisum.training.nli`), and MPNet's compact
warm start (``warm.pt``: every trained weight in fp16) is 172 MB: too large to commit, so a fresh
machine used to lose every stage not yet shipped. Fine-tuning moves each weight matrix by 1-3 %
of its norm, and most of that movement lies in few directions. This module stores, for every
weight matrix the base model also has, the difference from the base cut to its best rank ``r``
(truncated SVD) with both factors in int8 (one fp16 scale per row); every other tensor (biases,
LayerNorms, the heads, which the base lacks) is stored whole in fp16. At rank 128 that is 23 MB
for MPNet-base. Unpacking adds the difference back to the base's weights, which must be
the base it was packed against: each matrix records the norm of its base weight, and a mismatch
stops with a message rather than building a wrong model.

The reconstruction is a warm start, not the trained model bit for bit; ``verisum train pack
--check-held-out DATA`` measures what it loses on the trainer's 1,000 held-out rows before it
is committed.

    verisum train pack --ckpt ~/.cache/verisum/train/nli-mpnet/warm.pt --out warm/nli-mpnet-stage1.pt \\
        --rank 128 --check-held-out ../shared/data/nli

``--init warm/nli-mpnet-stage1.pt`` (``verisum train nli``, ``verisum train export --ckpt``) reads it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Mapping

import numpy as np
import torch

#: The file's format tag: :func:`is_packed` tells a packed file from a plain ``warm.pt``.
FORMAT = "verisum-lowrank-delta-1"


def _quantize_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 with one scale per row."""
    scale = x.abs().amax(dim=1).clamp_min(1e-12) / 127.0
    return torch.round(x / scale[:, None]).clamp(-127, 127).to(torch.int8), scale.to(torch.float16)


def _dequantize_rows(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return q.float() * scale.float()[:, None]


def _low_rank(delta: torch.Tensor, rank: int) -> dict[str, torch.Tensor]:
    u, s, vh = torch.linalg.svd(delta.float(), full_matrices=False)
    root = s[:rank].sqrt()
    a, a_scale = _quantize_rows((u[:, :rank] * root).float())
    b, b_scale = _quantize_rows((root[:, None] * vh[:rank]).float())
    return {"a": a, "a_scale": a_scale, "b": b, "b_scale": b_scale}


def _expand(f: Mapping[str, torch.Tensor]) -> torch.Tensor:
    return _dequantize_rows(f["a"], f["a_scale"]) @ _dequantize_rows(f["b"], f["b_scale"])


def base_weights(base: str) -> dict[str, torch.Tensor]:
    """The weights ``base`` (minilm, mpnet or a folder) really holds, under the names of the
    trainer's 3-way classifier on it: the freshly initialised head is left out, since a
    difference from random weights could not be undone on another machine."""
    from transformers import AutoModelForSequenceClassification

    from verisum.training.bases import resolve_base

    model, info = AutoModelForSequenceClassification.from_pretrained(
        resolve_base(base), num_labels=3, output_loading_info=True)
    fresh = set(info["missing_keys"])
    return {k: v for k, v in model.state_dict().items() if k not in fresh}


def pack(weights: Mapping[str, torch.Tensor], base: Mapping[str, torch.Tensor], rank: int,
         meta: Mapping | None = None) -> dict:
    """The packed form of ``weights`` (a warm start's tensors) against ``base`` (the weights the
    base model file holds, under the same names: :func:`base_weights`): weight matrices with more
    than ``2 * rank`` rows and columns as a rank-``rank`` int8 difference, the rest (biases,
    LayerNorms, heads the base lacks) whole in fp16."""
    if rank < 1:
        raise ValueError(f"rank must be at least 1, not {rank}")
    lowrank: dict[str, dict] = {}
    full: dict[str, torch.Tensor] = {}
    for name, w in weights.items():
        b = base.get(name)
        if b is not None and w.dim() == 2 and b.shape == w.shape and min(w.shape) > 2 * rank:
            b32 = b.detach().float()
            lowrank[name] = {**_low_rank(w.float() - b32, rank), "base_norm": float(b32.norm())}
        else:
            full[name] = w.detach().to(torch.float16)
    return {"format": FORMAT, "rank": rank, "lowrank": lowrank, "full": full, "meta": dict(meta or {})}


def is_packed(state: Mapping) -> bool:
    """Whether a loaded file is a packed warm start (not a plain ``warm.pt`` or a full state)."""
    return state.get("format") == FORMAT


def unpack(packed: Mapping, base: Mapping[str, torch.Tensor], tolerance: float = 1e-3) -> dict[str, torch.Tensor]:
    """The fp32 weights of a packed warm start, its differences added to ``base`` (the state dict
    of the base model it was packed against; ``ValueError`` where a matrix is missing or its base
    weight's norm differs by more than ``tolerance``, relative: another base)."""
    if not is_packed(packed):
        raise ValueError(f"not a packed warm start (format {packed.get('format')!r}, expected {FORMAT!r})")
    out = {k: v.float() for k, v in packed["full"].items()}
    for name, f in packed["lowrank"].items():
        b = base.get(name)
        if b is None:
            raise ValueError(f"the base model has no weight {name!r}: this warm start was packed against another base")
        b32 = b.detach().float()
        norm = float(b32.norm())
        if abs(norm - f["base_norm"]) > tolerance * max(f["base_norm"], 1e-12):
            raise ValueError(f"{name}: the base weight's norm is {norm:.4f}, packed against {f['base_norm']:.4f}: "
                             "this warm start was packed against another base")
        out[name] = b32 + _expand(f)
    return out


def relative_errors(weights: Mapping[str, torch.Tensor], base: Mapping[str, torch.Tensor],
                    packed: Mapping) -> dict[str, float]:
    """For each low-rank matrix, ||reconstructed - trained|| / ||trained - base||: the share of
    the fine-tuning's movement the packed form misses (0 is exact)."""
    out = {}
    for name, f in packed["lowrank"].items():
        delta = weights[name].float() - base[name].float()
        out[name] = float((_expand(f) - delta).norm() / delta.norm().clamp_min(1e-12))
    return out


def _probs(model, tok, pairs: list[tuple[str, str]], max_length: int) -> np.ndarray:
    from verisum.training.export import encoded_batches, torch_probs

    out = np.zeros((len(pairs), 3))
    for idx, enc in encoded_batches(model, tok, pairs, max_length):
        out[idx] = torch_probs(model, enc)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="verisum train pack", description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", required=True, help="the warm start to pack (warm.pt of verisum train nli)")
    ap.add_argument("--out", required=True, help="the packed file to write")
    ap.add_argument("--rank", type=int, default=128, help="rank of each weight matrix's difference [default: 128]")
    ap.add_argument("--base", default=None, help="minilm, mpnet or a folder [default: the warm start's own]")
    ap.add_argument("--check-held-out", nargs="+", default=None, metavar="DATA",
                    help="the NLI data the model was trained on: score the trained and the unpacked model "
                         "on the trainer's 1,000 held-out rows")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    if a.rank < 1:
        ap.error(f"--rank must be at least 1, not {a.rank}")

    from transformers import AutoTokenizer

    from verisum.training.bases import resolve_base
    from verisum.training.export import held_out_pairs, load_model, trained_max_length
    from verisum.training.nli import read_rows

    torch.set_num_threads(a.threads)
    try:
        state = torch.load(a.ckpt, map_location="cpu", weights_only=False)
    except Exception as exc:  # not a file torch wrote: a clear message, not a traceback
        ap.error(f"cannot read {a.ckpt}: {exc}")
    if not isinstance(state, dict) or "weights" not in state:
        ap.error(f"{a.ckpt} is not a warm start (warm.pt): it has no 'weights'")
    meta = dict(state.get("meta") or {})
    base_arg = a.base or meta.get("base_arg") or "minilm"
    tok = AutoTokenizer.from_pretrained(resolve_base(base_arg))
    base = base_weights(base_arg)
    t0 = time.time()
    packed = pack(state["weights"], base, a.rank, {**meta, "base_arg": base_arg, "packed_from": os.path.abspath(a.ckpt)})
    errors = relative_errors(state["weights"], base, packed)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save(packed, a.out)
    report: dict = {
        "out": a.out, "bytes": os.path.getsize(a.out), "source_bytes": os.path.getsize(a.ckpt), "rank": a.rank,
        "matrices_low_rank": len(packed["lowrank"]), "tensors_whole": len(packed["full"]),
        "missed_movement_mean": round(float(np.mean(list(errors.values()))), 4) if errors else 0.0,
        "missed_movement_max": round(max(errors.values()), 4) if errors else 0.0,
        "seconds": round(time.time() - t0, 1),
    }
    if a.check_held_out:
        trained, st = load_model(a.ckpt, base_arg, state)
        restored, _ = load_model(a.out, base_arg)
        seed = int((st.get("args") or {}).get("seed") or 13)
        pairs, y = held_out_pairs(read_rows(a.check_held_out), seed)
        max_length = trained_max_length(st)
        p_trained, p_restored = _probs(trained, tok, pairs, max_length), _probs(restored, tok, pairs, max_length)
        report["held_out"] = {
            "pairs": len(pairs),
            "trained_acc3": float((p_trained.argmax(1) == y).mean()),
            "unpacked_acc3": float((p_restored.argmax(1) == y).mean()),
            "argmax_agreement": float((p_trained.argmax(1) == p_restored.argmax(1)).mean()),
            "max_prob_diff": float(np.abs(p_trained - p_restored).max()),
        }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
