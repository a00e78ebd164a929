"""Tiny random models saved as base folders, for the training tests (no real weights needed)."""

from __future__ import annotations

from pathlib import Path

import pytest


def tiny_mpnet(folder: Path) -> Path:
    """A tiny random MPNet classifier with the MiniLM WordPiece vocabulary and MPNet's pair
    template (<s> A </s></s> B </s>), saved as a base folder."""
    import torch
    from tokenizers import Tokenizer
    from tokenizers.processors import RobertaProcessing
    from transformers import MPNetConfig, MPNetForSequenceClassification, PreTrainedTokenizerFast

    from verisum.resources import base_model_dir

    base = Path(base_model_dir())
    if not (base / "tokenizer.json").is_file():
        pytest.skip("the [train] extra's all-MiniLM-L6-v2 is not installed")
    tok = Tokenizer.from_file(str(base / "tokenizer.json"))
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = RobertaProcessing(("[SEP]", sep_id), ("[CLS]", cls_id))
    folder.mkdir(parents=True)
    tok.save(str(folder / "tokenizer.json"))
    PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"), cls_token="[CLS]", sep_token="[SEP]",
                            pad_token="[PAD]", unk_token="[UNK]", mask_token="[MASK]").save_pretrained(folder)
    torch.manual_seed(0)
    config = MPNetConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, num_labels=3, pad_token_id=tok.token_to_id("[PAD]"),
                         bos_token_id=cls_id, eos_token_id=sep_id)
    MPNetForSequenceClassification(config).save_pretrained(folder)
    return folder


def tiny_warm_start(tmp_path: Path, move, *, seed: int, max_length: int | None = None):
    """A tiny MPNet with a fault head, each weight but the frozen word embeddings moved by
    ``move(name, parameter)`` (a tensor added to it), saved as a trainer's warm start.

    Returns the base folder, the warm start's path, and the model that warm start reads back as
    (fp16 weights: the reference a reader of the file must reproduce, not the fp32 before saving)."""
    import torch

    from verisum.training import export, nli

    folder = tiny_mpnet(tmp_path / "mpnet")
    _, model = nli.build_model(str(folder))
    nli.add_fault_head(model)
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "word_embeddings" not in name:
                p.add_(move(name, p))
    meta = {"step": 40, "seed": 13, "base_arg": str(folder), "examples_seen": 1280}
    if max_length is not None:
        meta["max_length"] = max_length
    warm = tmp_path / "warm.pt"
    torch.save({"weights": nli.trainable_state(model), "meta": meta}, warm)
    return folder, warm, export.load_model(str(warm), str(folder))[0]
