"""Weights read back from an exported model: any ``model.onnx`` that :mod:`verisum.training.export`
wrote (fp32 or int8) becomes a warm start for the trainer (``--init <model folder>``).

Why: a run's full state lives outside the work tree, so on a fresh machine the last *shipped*
model may be the newest weights there are (beside a packed warm start that was committed:
:mod:`verisum.training.compact`). The exporter names every node after the module it came from
(``/m/mpnet/encoder/layer.3/attention/attn/q/MatMul``) and keeps most parameters under their own
names (``m.mpnet.encoder.layer.3.attention.LayerNorm.weight``); only the weights of linear
layers are renamed (``onnx::MatMul_892``, transposed to [in, out]) and, after dynamic
quantisation, stored as int8 with a scale and zero point (``<name>_quantized``, ``_scale``,
``_zero_point``, per tensor or per output channel); a smoothed MatMul
(:mod:`verisum.training.smoothing`) holds ``s * W`` beside ``<MatMul>_smooth_inv``. All are undone
here, so the mapping needs no side file and also reads models exported before this module existed.

An int8 model gives back its weights to within half a quantisation step: a warm start, not the
trained model bit for bit (the exporter's ``--check-held-out`` figures say how close the shipped
form reads). The word embeddings never train (the trainer freezes them) and are taken from the
base model, never from the file.
"""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

_PREFIX = "m."  # the export wrapper holds the model as ``m``


def _dequantize(q: np.ndarray, scale: np.ndarray, zero: np.ndarray) -> np.ndarray:
    q = q.astype(np.float32) - zero.astype(np.float32).reshape(_channel_shape(q, zero))
    return q * scale.astype(np.float32).reshape(_channel_shape(q, scale))


def _channel_shape(w: np.ndarray, per: np.ndarray) -> tuple[int, ...]:
    """How a scale or zero point of ``per.size`` values lines up with ``w``: one value, or one per
    slice along the axis of that length (onnxruntime quantises a MatMul weight per output column)."""
    if per.size == 1:
        return ()
    for axis in range(w.ndim - 1, -1, -1):
        if w.shape[axis] == per.size:
            return tuple(per.size if k == axis else 1 for k in range(w.ndim))
    raise ValueError(f"a scale of {per.size} values does not fit a weight of shape {w.shape}")


def read_initializers(path: str) -> dict[str, np.ndarray]:
    """Every initializer of the ONNX file as float32, int8 ones dequantised under their fp32 name."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(path).graph
    raw = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    out: dict[str, np.ndarray] = {}
    for name, arr in raw.items():
        if name.endswith("_quantized"):
            stem = name[: -len("_quantized")]
            scale, zero = raw.get(stem + "_scale"), raw.get(stem + "_zero_point")
            if scale is None or zero is None:
                raise ValueError(f"{path}: {name} has no scale or zero point")
            out[stem] = _dequantize(arr, scale, zero)
        elif not name.endswith(("_scale", "_zero_point")) and arr.dtype.kind == "f":
            out[name] = arr.astype(np.float32)
    # the exporter keeps one copy of equal tensors (a bias still at zeros, a norm at ones) and
    # names the others as Identity nodes of it
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in out:
            out[node.output[0]] = out[node.input[0]]
    # a linear layer's weight: the second input of the MatMul (or Gemm) its module's scope names
    for node in graph.node:
        if node.op_type not in ("MatMul", "MatMulInteger", "Gemm") or len(node.input) < 2:
            continue
        w = node.input[1]
        stem = w[: -len("_quantized")] if w.endswith("_quantized") else w
        if stem not in out or not node.name.startswith("/"):
            continue
        # "/m/mpnet/encoder/layer.0/attention/attn/q/MatMul"; a module the wrapper's forward reaches
        # by attribute (the fault head) is scoped without the "m": "/fault_head/MatMul"
        parts = node.name.strip("/").split("/")[:-1]
        module = ".".join(parts[1:] if parts[:1] == ["m"] else parts)
        trans_b = any(a.name == "transB" and a.i for a in node.attribute)
        weight = out[stem]
        # a smoothed MatMul (verisum.training.smoothing) holds s * W and divides its input by s
        base_name = node.name[: -len("_quant")] if node.name.endswith("_quant") else node.name
        inv = out.get(f"{base_name}_smooth_inv")
        if inv is not None and not trans_b:
            weight = weight * inv[:, None]
        out[f"{_PREFIX}{module}.weight"] = weight if trans_b else weight.T
    return out


def state_from_onnx(model: Any, path: str) -> dict[str, Any]:
    """The parameters of ``model`` (a torch module shaped as the exported one) found in ``path``,
    as torch tensors; raises ``SystemExit`` naming what is missing or of the wrong shape."""
    import torch

    found = read_initializers(path)
    want = model.state_dict()
    state: dict[str, Any] = {}
    missing, wrong = [], []
    for key, ref in want.items():
        if "word_embeddings" in key or key.endswith("position_ids"):
            continue  # frozen at the base model's / a buffer
        arr = found.get(_PREFIX + key)
        if arr is None and key.endswith(".weight"):
            arr = found.get(f"{_PREFIX}{key}_Transposed")  # a Gemm weight the exporter pre-transposed
            arr = None if arr is None else arr.T
        if arr is None:
            if not key.startswith("fault_head."):  # a model exported without the head: it starts afresh
                missing.append(key)
        elif tuple(arr.shape) != tuple(ref.shape):
            wrong.append(f"{key} {tuple(arr.shape)} != {tuple(ref.shape)}")
        else:
            state[key] = torch.from_numpy(np.ascontiguousarray(arr)).to(ref.dtype)
    if missing or wrong:
        raise SystemExit(f"{path} does not fit the base model: missing {missing[:5]}, wrong shape {wrong[:5]}")
    return state


def model_file(path: str) -> str | None:
    """The ONNX file a ``--init`` path names (a model folder or the file itself), else None."""
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, "model.onnx")):
        return os.path.join(path, "model.onnx")
    return path if path.endswith(".onnx") and os.path.isfile(path) else None


def load_exported(model: Any, path: str) -> dict[str, Any]:
    """Load an exported model's weights into ``model``; returns the warm-start meta the trainer
    reads (pairs seen, step, base), from the folder's ``config.json`` where there is one."""
    onnx_path = model_file(path)
    if onnx_path is None:
        raise SystemExit(f"{path} is neither a model folder with model.onnx nor an .onnx file")
    from google.protobuf.message import DecodeError

    try:
        state = state_from_onnx(model, onnx_path)
    except (ValueError, OSError, DecodeError) as exc:  # a damaged or foreign file
        raise SystemExit(f"cannot read the weights of {onnx_path}: {exc}") from None
    model.load_state_dict(state, strict=False)
    cfg_path = os.path.join(os.path.dirname(onnx_path), "config.json")
    cfg: dict[str, Any] = {}
    if os.path.isfile(cfg_path):
        with open(cfg_path) as f:
            cfg = json.load(f)
    return {"examples_seen": cfg.get("examples_seen") or 0, "step": cfg.get("training_steps", 0),
            "base": cfg.get("base_model"), "seed": cfg.get("seed"), "from_onnx": onnx_path,
            "quantization": cfg.get("quantization")}
