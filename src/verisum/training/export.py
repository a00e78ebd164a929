"""Export a trained checkpoint to ONNX (fp32 -> int8 dynamic quantisation) for the embedded judge.

    python -m verisum.training.export --ckpt .train/run1/best/model.pt --out src/verisum/models/nli-minilm

Writes ``model.onnx`` (int8, QInt8 weights; inputs input_ids / attention_mask / token_type_ids
int64 [batch, seq]; output ``logits`` [batch, 3]), ``tokenizer.json`` (copied from the base) and
``config.json``.  Checks int8 against torch on up to 200 pairs (argmax agreement, max prob diff).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

from verisum.training.trainer import DEFAULT_BASE, LABELS, encode, load_eval

BASE_NAME = "sentence-transformers/all-MiniLM-L6-v2"


class _Logits(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits


def load_model(ckpt: str, base: str):
    """The model of a full checkpoint (``state.pt``, ``best/model.pt``) or of a compact warm
    start (``warm.pt`` of :mod:`verisum.training.nli`: fp16, frozen embeddings left out)."""
    from transformers import AutoModelForSequenceClassification
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=3)
    st = torch.load(ckpt, map_location="cpu", weights_only=False)
    if "weights" in st:
        from verisum.training.nli import load_warm
        meta = load_warm(model, ckpt)
        st = {"step": meta.get("step", 0), "n_data": meta.get("n_rows"), "pos": meta.get("examples_seen"),
              "args": {"seed": meta.get("seed")}, "meta": meta}
    else:
        model.load_state_dict(st["model"])
    model.eval()
    return model, st


def export_onnx(model, path: str, tok) -> None:
    enc = tok(["The premise sentence here."] * 2, ["A claim."] * 2, return_tensors="pt", padding=True)
    args = (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
    dyn = {k: {0: "batch", 1: "sequence"} for k in ("input_ids", "attention_mask", "token_type_ids")}
    dyn["logits"] = {0: "batch"}
    wrapper = _Logits(model).eval()
    torch.onnx.export(wrapper, args, path, input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["logits"], dynamic_axes=dyn, opset_version=17, dynamo=False,
                      do_constant_folding=True)
    model.eval()  # the exporter restores the wrapper's mode; make sure dropout stays off


def ort_probs(path: str, enc) -> np.ndarray:
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    feeds = {k: enc[k].numpy().astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
    lg = sess.run(["logits"], feeds)[0]
    e = np.exp(lg - lg.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", required=True, help="best/model.pt or ckpt/state.pt")
    ap.add_argument("--out", default="src/verisum/models/nli-minilm")
    ap.add_argument("--base", default=DEFAULT_BASE)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--check", default=None, help="JSONL pairs for the int8 vs torch check (200 used)")
    ap.add_argument("--extra-config", default=None, help="JSON merged into config.json")
    a = ap.parse_args(argv)

    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoTokenizer

    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(a.base)
    model, st = load_model(a.ckpt, a.base)
    os.makedirs(a.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as td:
        fp32 = os.path.join(td, "model_fp32.onnx")
        export_onnx(model, fp32, tok)
        int8 = os.path.join(td, "model.onnx")
        quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8, per_channel=True)  # per-channel: 99% vs 97% agreement
        report = {}
        if a.check and os.path.exists(a.check):
            rows = load_eval(a.check)[:200]
            pairs = [(r["premise"], r["claim"]) for r in rows]
            pt, p32, p8 = [], [], []
            for i in range(0, len(pairs), 20):
                ch = pairs[i:i + 20]
                enc = encode(tok, [p for p, _ in ch], [c for _, c in ch], a.max_length)
                with torch.no_grad():
                    pt.append(torch.softmax(model(**enc).logits, -1).numpy())
                p32.append(ort_probs(fp32, enc))
                p8.append(ort_probs(int8, enc))
            pt, p32, p8 = map(np.concatenate, (pt, p32, p8))
            report = {
                "check_pairs": len(pairs),
                "fp32_vs_torch_argmax_agreement": float((p32.argmax(1) == pt.argmax(1)).mean()),
                "int8_vs_torch_argmax_agreement": float((p8.argmax(1) == pt.argmax(1)).mean()),
                "int8_vs_torch_max_prob_diff": float(np.abs(p8 - pt).max()),
                "int8_vs_torch_mean_prob_diff": float(np.abs(p8 - pt).mean()),
                "fp32_vs_torch_max_prob_diff": float(np.abs(p32 - pt).max()),
            }
            print(json.dumps(report, indent=1))
            if report["int8_vs_torch_argmax_agreement"] < 0.97:
                print("WARNING: int8 agreement below 97%", file=sys.stderr)
        shutil.copyfile(int8, os.path.join(a.out, "model.onnx"))
    shutil.copyfile(os.path.join(a.base, "tokenizer.json"), os.path.join(a.out, "tokenizer.json"))
    cfg = {
        "labels": LABELS,
        "max_length": a.max_length,
        "base_model": BASE_NAME,
        "premise_first": True,
        "truncation": "premise_only",
        "inputs": ["input_ids", "attention_mask", "token_type_ids"],
        "output": "logits",
        "quantization": "onnxruntime quantize_dynamic QInt8 per-channel",
        "training_steps": int(st.get("step", 0)),
    }
    meta_path = os.path.join(os.path.dirname(a.ckpt), "meta.json")
    if os.path.exists(meta_path):
        meta = json.load(open(meta_path))
        cfg.update({"training_data_size": meta.get("n_data"), "examples_seen": meta.get("examples_seen"),
                    "seed": meta.get("seed"), "eval": meta.get("eval")})
    elif "args" in st:
        cfg.update({"training_data_size": st.get("n_data"), "examples_seen": st.get("pos"),
                    "seed": st["args"].get("seed")})
    if report:
        cfg["int8_check"] = report
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
