"""The sentence encoders: the packaged static vectors and the MiniLM ONNX encoder."""

from __future__ import annotations

import json

import numpy as np
import pytest

from verisum.encoder import Encoder, StaticEncoder
from verisum.errors import ModelError

TEXTS = [
    "The president visited China.",
    "The head of state travelled to Beijing for talks with Chinese leaders.",
    "Shares fell sharply on Tuesday.",
    "Rain is expected later this week.",
]


def _minilm() -> Encoder:
    return Encoder(intra_op_num_threads=1).load()  # a dependency of the base install: never skipped


@pytest.mark.parametrize("make", [StaticEncoder, _minilm], ids=["static", "minilm"])
def test_encoder_rows_are_unit_length_in_input_order_and_batch_invariant(make):
    enc = make()
    together = enc.encode(TEXTS)
    assert together.shape == (4, 384) and together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, rtol=1e-5)
    alone = np.vstack([enc.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(together, alone, atol=2e-3)  # int8 MiniLM: per-call activation scales
    assert enc.encode([]).shape == (0, 384)


@pytest.mark.parametrize("make", [StaticEncoder, _minilm], ids=["static", "minilm"])
def test_encoder_a_paraphrase_is_closer_than_unrelated_news(make):
    v = make().encode(TEXTS)
    sims = v[0] @ v[1:].T
    assert sims[0] > sims[1] + 0.1 and sims[0] > sims[2] + 0.1


def test_static_encoder_weights_rare_words_over_function_words():
    enc = StaticEncoder()
    a, b, c = enc.encode(["the mayor of the town", "mayor", "the of the"])
    assert a @ b > a @ c  # "the"/"of" barely count: the phrase is about the mayor


def test_static_encoder_text_without_tokens_is_a_zero_row():
    v = StaticEncoder().encode(["", "  "])
    assert not v.any()


def test_static_encoder_missing_or_mismatched_vectors_are_model_errors(tmp_path):
    with pytest.raises(ModelError, match="cannot read the static vectors"):
        StaticEncoder(tmp_path).load()
    np.savez(tmp_path / "vectors.npz", vectors=np.zeros((5, 4), np.int8), scales=np.ones(5, np.float32),
             weights=np.ones(5, np.float16))
    with pytest.raises(ModelError, match="vocabulary sizes differ"):
        StaticEncoder(tmp_path).load()


def test_static_vectors_quantisation_keeps_direction_and_token_counts_count(tmp_path):
    from verisum.encoder import load_tokenizer, default_tokenizer_path
    from verisum.training.static import quantise, token_counts

    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (50, 384)).astype(np.float32)
    q, s = quantise(x)
    back = q.astype(np.float32) * s[:, None]
    cos = (back * x).sum(1) / (np.linalg.norm(back, axis=1) * np.linalg.norm(x, axis=1))
    assert q.dtype == np.int8 and cos.min() > 0.9999
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"title": "Mayor", "text": "the mayor and the town"}) + "\n\n")
    tok = load_tokenizer(default_tokenizer_path())
    counts, docs = token_counts(tok, corpus)
    assert docs == 1
    assert counts[tok.token_to_id("the")] == 2 and counts[tok.token_to_id("mayor")] == 2


def test_static_alignment_scores_each_claim_word_against_the_source_words():
    enc = StaticEncoder()
    source = ["The mayor opened a new bridge on Monday.", "Fishermen had opposed the plan."]
    copied, invented, empty = enc.alignment(
        ["The mayor opened the bridge.", "Penguins sang opera in Paris.", "the of"], source
    )
    assert copied == {"align_mean": 1.0, "align_min": 1.0, "soft_novel": 0.0}  # every word is there
    assert invented["soft_novel"] > 0.5 and invented["align_min"] < 0.6 < copied["align_min"]
    assert empty == {"align_mean": 1.0, "align_min": 1.0, "soft_novel": 0.0}  # no content words


def test_checker_aligns_a_clause_by_its_own_words_not_its_context():
    from verisum import Checker
    from verisum.evidence import HybridRetriever

    seen = []

    class Recording(StaticEncoder):
        def alignment(self, texts, source_texts):
            seen.extend(texts)
            return super().alignment(texts, source_texts)

    enc = Recording()
    checker = Checker("embedded", retriever=HybridRetriever(enc, shortlist=None, aligner=enc))
    (a,) = checker.analyse([(None, "Putin will meet Erdogan in Astana on Wednesday.",
                             "Putin will meet Erdogan, highlighting the importance of insulation.")])
    assert seen == ["Putin will meet Erdogan", "highlighting the importance of insulation."]
    main, clause = [c.features for c in a.claims]
    assert clause["soft_novel"] > main["soft_novel"]
