"""Export a trained checkpoint to ONNX for the embedded judge, and measure what the shipped form costs.

    python -m verisum.training.export --ckpt ~/.cache/verisum/train/nli-minilm/warm.pt --out src/verisum/models/nli-minilm
    python -m verisum.training.export --ckpt ~/.cache/verisum/train/nli-mpnet/warm.pt --base mpnet \\
        --out src/verisum/models/nli-mpnet --quantize int8 --keep-fp32-outliers 6 \\
        --check-held-out ../shared/data/nli

Writes ``model.onnx`` (inputs ``input_ids`` / ``attention_mask``, plus ``token_type_ids`` for
models that read segment ids (MiniLM; not MPNet), int64 [batch, seq]; output ``logits``
[batch, 3]), ``tokenizer.json`` (the base's) and ``config.json``.

``--quantize``: ``int8`` (onnxruntime's dynamic quantisation, per-channel weights; MatMuls whose
node name matches a ``--keep-fp32`` pattern stay fp32, and so do the ``--keep-fp32-outliers K``
whose inputs have the most extreme outlier channels on the calibration pairs), ``int8-smooth`` (the same after
SmoothQuant, calibrated on training pairs: :mod:`verisum.training.smoothing`), ``int8-tensor``
(one scale per tensor) or ``fp32`` (no quantisation). ``--check-held-out DATA`` scores the torch model, the fp32 ONNX
and the shipped ONNX on the 1,000 NLI rows the trainer kept aside (the same seeded split) and
records 3-way accuracy, argmax agreement with torch and the largest probability difference in
``config.json`` (``quantization_check``): the numbers that decide whether a quantised form may ship.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time

import numpy as np
import torch

from verisum.training.bases import base_name, resolve_base
from verisum.training.trainer import LABELS, encode, load_eval


class _Logits(torch.nn.Module):
    """The exported graph: logits, and the fault head's per-token logits where the model has one."""

    def __init__(self, m, token_types: bool):
        super().__init__()
        self.m = m
        self.token_types = token_types

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        from verisum.training.nli import forward
        enc = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self.token_types:
            enc["token_type_ids"] = token_type_ids
        logits, fault_logits = forward(self.m, enc)
        return logits if fault_logits is None else (logits, fault_logits)


def load_model(ckpt: str, base: str, state: dict | None = None):
    """The model of a full checkpoint (``state.pt``, ``best/model.pt``) or of a compact warm
    start (``warm.pt`` of :mod:`verisum.training.nli`: fp16, frozen embeddings left out; or one
    packed by :mod:`verisum.training.compact`);
    ``state`` is the checkpoint already loaded, if it is."""
    from transformers import AutoModelForSequenceClassification
    model = AutoModelForSequenceClassification.from_pretrained(resolve_base(base), num_labels=3)
    st = state if state is not None else torch.load(ckpt, map_location="cpu", weights_only=False)
    from verisum.training.compact import is_packed
    packed = is_packed(st)
    weights = st["full"] if packed else (st.get("weights") or st.get("model") or {})
    if any(k.startswith("fault_head.") for k in weights):
        from verisum.training.nli import add_fault_head
        add_fault_head(model)
    if "weights" in st or packed:
        from verisum.training.nli import load_warm
        meta = load_warm(model, ckpt, st)
        st = {"step": meta.get("step", 0), "n_data": meta.get("n_rows"), "pos": meta.get("examples_seen"),
              "args": {"seed": meta.get("seed")}, "meta": meta}
    else:
        model.load_state_dict(st["model"])
    model.eval()
    return model, st


def trained_max_length(st: dict, default: int = 128) -> int:
    """The input length a checkpoint was trained at (a warm start's ``meta``, a full state's
    ``args``), so that the exported judge reads premises as long as it learnt to; ``default``
    for checkpoints that do not record it."""
    for src in (st.get("meta") or {}, st.get("args") or {}):
        if src.get("max_length"):
            return int(src["max_length"])
    return default


def input_names(model) -> list[str]:
    from verisum.training.nli import uses_token_types
    return ["input_ids", "attention_mask"] + (["token_type_ids"] if uses_token_types(model) else [])


def output_names(model) -> list[str]:
    return ["logits"] + (["fault_logits"] if hasattr(model, "fault_head") else [])


def export_onnx(model, path: str, tok) -> None:
    names = input_names(model)
    outputs = output_names(model)
    enc = tok(["The premise sentence here."] * 2, ["A claim."] * 2, return_tensors="pt", padding=True)
    args = tuple(enc[k] for k in names)
    dyn = {k: {0: "batch", 1: "sequence"} for k in names}
    dyn["logits"] = {0: "batch"}
    if "fault_logits" in outputs:
        dyn["fault_logits"] = {0: "batch", 1: "sequence"}
    wrapper = _Logits(model, "token_type_ids" in names).eval()
    torch.onnx.export(wrapper, args, path, input_names=names, output_names=outputs, dynamic_axes=dyn,
                      opset_version=17, dynamo=False, do_constant_folding=True)
    model.eval()  # the exporter restores the wrapper's mode; make sure dropout stays off


def quantize(fp32: str, out: str, mode: str, keep_fp32: list[str], calibration: list[dict] | None = None,
             alpha: float = 0.5, keep_outliers: int = 0) -> list[str]:
    """Write the shipped form of ``fp32`` to ``out``; returns the MatMul nodes kept in fp32: those
    named by a ``keep_fp32`` pattern and the ``keep_outliers`` ones whose input activations have
    the most extreme outlier channels (:func:`verisum.training.smoothing.outlier_matmuls`).
    ``int8-smooth`` smooths the graph first (:mod:`verisum.training.smoothing`). Both read the
    activation ranges of the ``calibration`` feeds (onnxruntime input dicts)."""
    if mode == "fp32":
        shutil.copyfile(fp32, out)
        return []
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from verisum.training import smoothing

    nodes = [n.name for n in onnx.load(fp32, load_external_data=False).graph.node if n.op_type in ("MatMul", "Gemm")]
    kept = [n for n in nodes if any(re.search(p, n) for p in keep_fp32)]
    ranges: dict = {}
    if mode == "int8-smooth" or keep_outliers:
        if not calibration:
            raise SystemExit(f"{'--quantize int8-smooth' if mode == 'int8-smooth' else '--keep-fp32-outliers'} "
                             "needs calibration pairs (--calibration DATA or --check-held-out DATA)")
        ranges = smoothing.activation_ranges(fp32, calibration)
        kept += [n for n in smoothing.outlier_matmuls(ranges, keep_outliers) if n not in kept]
    source = fp32
    if mode == "int8-smooth":
        source = os.path.join(os.path.dirname(out), "model_smooth.onnx")
        smoothing.smooth(fp32, source, {k: v for k, v in ranges.items() if k not in kept}, alpha=alpha)
    quantize_dynamic(source, out, weight_type=QuantType.QInt8, per_channel=(mode != "int8-tensor"),
                     nodes_to_exclude=kept)
    return kept


def calibration_feeds(model, tok, rows: list[dict], seed: int, n: int, max_length: int) -> list[dict]:
    """``n`` pairs of the trainer's training rows of ``rows`` (never the held-out ones), seeded,
    as onnxruntime feeds of 16 pairs."""
    from verisum.training.nli import split_held_out
    _, train_idx = split_held_out(len(rows), seed)
    pick = np.random.RandomState(seed + 7).choice(train_idx, size=min(n, len(train_idx)), replace=False)
    names = input_names(model)
    feeds = []
    for i in range(0, len(pick), 16):
        part = [rows[j] for j in pick[i:i + 16]]
        enc = encode(tok, [r["premise"] for r in part], [r["claim"] for r in part], max_length)
        feeds.append({k: enc[k].numpy().astype(np.int64) for k in names})
    return feeds


def _session(path: str):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_probs(sess, enc) -> np.ndarray:
    names = {i.name for i in sess.get_inputs()}
    feeds = {k: enc[k].numpy().astype(np.int64) for k in enc if k in names}
    lg = sess.run(["logits"], feeds)[0]
    e = np.exp(lg - lg.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def held_out_pairs(rows: list[dict], seed: int) -> tuple[list[tuple[str, str]], np.ndarray]:
    """The trainer's held-out rows (3-way ones) of ``rows`` (:func:`verisum.training.nli.read_rows`
    of its data) as (premise, claim) pairs and their label ids."""
    from verisum.training.nli import split_held_out
    held, _ = split_held_out(len(rows), seed)
    keep = [rows[i] for i in held if rows[i]["y"] >= 0]
    return [(r["premise"], r["claim"]) for r in keep], np.array([r["y"] for r in keep])


def encoded_batches(model, tok, pairs: list[tuple[str, str]], max_length: int, bs: int = 16):
    """(indices into ``pairs``, the model's inputs for them), ``bs`` pairs at a time, shortest first."""
    names = input_names(model)
    order = np.argsort([len(p) + len(c) for p, c in pairs])
    for i in range(0, len(order), bs):
        idx = order[i:i + bs]
        enc = encode(tok, [pairs[j][0] for j in idx], [pairs[j][1] for j in idx], max_length)
        yield idx, {k: v for k, v in enc.items() if k in names}


@torch.no_grad()
def torch_probs(model, enc: dict) -> np.ndarray:
    """The torch model's class probabilities for one batch of :func:`encoded_batches`."""
    from verisum.training.nli import forward
    return torch.softmax(forward(model, enc)[0].float(), -1).numpy()


def compare(model, tok, paths: dict[str, str], pairs: list[tuple[str, str]], y: np.ndarray | None,
            max_length: int) -> dict:
    """Torch against each ONNX file on ``pairs``: accuracy (with labels), argmax agreement with
    torch, the largest probability difference, and pairs per second of each ONNX file."""
    sessions = {k: _session(p) for k, p in paths.items()}
    probs: dict[str, list[np.ndarray]] = {"torch": [], **{k: [] for k in paths}}
    seconds = dict.fromkeys(paths, 0.0)
    for idx, enc in encoded_batches(model, tok, pairs, max_length):
        probs["torch"].append((idx, torch_probs(model, enc)))
        for k, sess in sessions.items():
            t = time.perf_counter()
            probs[k].append((idx, ort_probs(sess, enc)))
            seconds[k] += time.perf_counter() - t
    full = {}
    for k, parts in probs.items():
        P = np.zeros((len(pairs), 3))
        for idx, p in parts:
            P[idx] = p
        full[k] = P
    ref = full["torch"]
    out: dict = {"pairs": len(pairs)}
    if y is not None:
        out["torch_acc3"] = float((ref.argmax(1) == y).mean())
    for k in paths:
        P = full[k]
        row = {"argmax_agreement": float((P.argmax(1) == ref.argmax(1)).mean()),
               "max_prob_diff": float(np.abs(P - ref).max()), "mean_prob_diff": float(np.abs(P - ref).mean()),
               "pairs_per_second": round(len(pairs) / max(seconds[k], 1e-9), 1)}
        if y is not None:
            row["acc3"] = float((P.argmax(1) == y).mean())
        out[k] = row
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="verisum train export", description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", required=True, help="warm.pt, state.pt or best/model.pt")
    ap.add_argument("--out", default="src/verisum/models/nli-minilm")
    ap.add_argument("--base", default=None, help="minilm, mpnet or a folder [default: the warm start's own, else minilm]")
    ap.add_argument("--max-length", type=int, default=None,
                    help="the judge's input length in tokens [default: the length the checkpoint was trained at, "
                         "else 128]")
    ap.add_argument("--quantize", choices=["int8", "int8-smooth", "int8-tensor", "fp32"], default="int8")
    ap.add_argument("--calibration", nargs="+", default=None, metavar="DATA",
                    help="int8-smooth, --keep-fp32-outliers: NLI data whose training rows calibrate them "
                         "[default: the --check-held-out data]")
    ap.add_argument("--calibration-pairs", type=int, default=256)
    ap.add_argument("--smooth-alpha", type=float, default=0.5,
                    help="int8-smooth: how much of the activations' range moves into the weights (0-1)")
    ap.add_argument("--keep-fp32", action="append", default=[], metavar="REGEX",
                    help="MatMul/Gemm nodes whose name matches stay fp32 (repeatable)")
    ap.add_argument("--keep-fp32-outliers", type=int, default=0, metavar="K",
                    help="keep fp32 the K MatMuls whose input activations have the most extreme outlier "
                         "channels on the calibration pairs [default: 0]")
    ap.add_argument("--check-held-out", nargs="+", default=None, metavar="DATA",
                    help="the NLI data the model was trained on: score the trainer's 1,000 held-out rows")
    ap.add_argument("--seed", type=int, default=None, help="the trainer's seed [default: the checkpoint's]")
    ap.add_argument("--check", default=None, help="JSONL pairs for an extra check (200 used)")
    ap.add_argument("--extra-config", default=None, help="JSON merged into config.json")
    ap.add_argument("--without-fault-head", action="store_true",
                    help="leave the checkpoint's fault head out of the export (one output, the verdict's logits)")
    a = ap.parse_args(argv)
    if a.keep_fp32_outliers < 0:
        ap.error(f"--keep-fp32-outliers must be at least 0, not {a.keep_fp32_outliers}")
    if not 0.0 <= a.smooth_alpha <= 1.0:
        ap.error(f"--smooth-alpha must lie in [0, 1], not {a.smooth_alpha}")

    from transformers import AutoTokenizer

    torch.set_num_threads(2)
    state = torch.load(a.ckpt, map_location="cpu", weights_only=False)  # read once: 172 MB for MPNet
    base = a.base or (state.get("meta") or {}).get("base_arg") or "minilm"  # a warm start names its base
    folder = resolve_base(base)
    tok = AutoTokenizer.from_pretrained(folder)
    model, st = load_model(a.ckpt, base, state)
    if a.without_fault_head and hasattr(model, "fault_head"):
        del model.fault_head
    if a.max_length is None:
        a.max_length = trained_max_length(st)
    os.makedirs(a.out, exist_ok=True)
    report: dict = {}
    with tempfile.TemporaryDirectory() as td:
        fp32 = os.path.join(td, "model_fp32.onnx")
        export_onnx(model, fp32, tok)
        shipped = os.path.join(td, "model.onnx")
        seed = a.seed if a.seed is not None else int((st.get("args") or {}).get("seed") or 13)
        from verisum.training.nli import read_rows
        nli_rows = read_rows(a.check_held_out) if a.check_held_out else None  # read once for both uses
        calibration = None
        if (a.quantize == "int8-smooth" or a.keep_fp32_outliers) and (a.calibration or nli_rows):
            cal_rows = read_rows(a.calibration) if a.calibration else nli_rows
            calibration = calibration_feeds(model, tok, cal_rows, seed, a.calibration_pairs, a.max_length)
        kept = quantize(fp32, shipped, a.quantize, a.keep_fp32, calibration, a.smooth_alpha, a.keep_fp32_outliers)
        if nli_rows:
            pairs, y = held_out_pairs(nli_rows, seed)
            report["held_out"] = compare(model, tok, {"fp32": fp32, "shipped": shipped}, pairs, y, a.max_length)
        if a.check and os.path.exists(a.check):
            rows = load_eval(a.check)[:200]
            report["check"] = compare(model, tok, {"fp32": fp32, "shipped": shipped},
                                      [(r["premise"], r["claim"]) for r in rows], None, a.max_length)
        if report:
            print(json.dumps(report, indent=1))
            ho = report.get("held_out", {}).get("shipped")
            if ho and (ho["argmax_agreement"] < 0.97 or report["held_out"]["torch_acc3"] - ho["acc3"] > 0.01):
                print("WARNING: the shipped form reads differently from the trained model "
                      "(agreement below 0.97 or more than 1 point of held-out accuracy lost)", file=sys.stderr)
        shutil.copyfile(shipped, os.path.join(a.out, "model.onnx"))
    shutil.copyfile(os.path.join(folder, "tokenizer.json"), os.path.join(a.out, "tokenizer.json"))
    cfg = {
        "labels": LABELS,
        "max_length": a.max_length,
        "base_model": base_name(folder),
        "premise_first": True,
        "truncation": "premise_only",
        "inputs": input_names(model),
        "outputs": output_names(model),
        "pad_id": int(tok.pad_token_id or 0),
        "output": "logits",
        "quantization": {"int8": "onnxruntime quantize_dynamic QInt8 per-channel",
                         "int8-smooth": f"SmoothQuant (alpha {a.smooth_alpha}, {a.calibration_pairs} calibration "
                                        "pairs of the training rows), then onnxruntime quantize_dynamic QInt8 "
                                        "per-channel",
                         "int8-tensor": "onnxruntime quantize_dynamic QInt8 per-tensor",
                         "fp32": "none (fp32)"}[a.quantize] + (f"; {len(kept)} MatMul nodes kept fp32" if kept else ""),
        "kept_fp32": kept,
        "training_steps": int(st.get("step", 0)),
    }
    if "args" in st:
        cfg.update({"training_data_size": st.get("n_data"), "examples_seen": st.get("pos"),
                    "seed": st["args"].get("seed")})
    if report:
        cfg["quantization_check"] = report
    if "meta" in st:
        cfg.update({"training_data": st["meta"].get("data"), "held_out": st["meta"].get("held_out")})
    if a.extra_config:
        cfg.update(json.loads(a.extra_config))
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    size = os.path.getsize(os.path.join(a.out, "model.onnx"))
    print(f"wrote {a.out}/model.onnx ({size / 1e6:.1f} MB), tokenizer.json, config.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
