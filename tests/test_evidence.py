"""Retrieval over the whole source: lexical fallback and the embedding + lexical hybrid."""

from __future__ import annotations

import hashlib
import tracemalloc

import numpy as np
import pytest

from verisum.document import Document
from verisum.evidence import BLOCK_SENTENCES, HybridRetriever, LexicalRetriever, content_words


class HashEncoder:
    """Deterministic stand-in encoder: hashed bag of content words, unit length."""

    dim = 384

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts):
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in content_words(t):
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
        n = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(n, 1e-9)


SOURCE = Document(
    "The council met on Monday. The mayor opened the new bridge after three years of work. "
    "Fishermen had opposed the plan. The bridge cost 40 million euros, paid by a regional fund."
)


@pytest.mark.parametrize("retriever", [LexicalRetriever(), HybridRetriever(HashEncoder())], ids=["lexical", "hybrid"])
def test_evidence_best_sentence_first_and_offsets_slice_the_source(retriever):
    found = retriever.retrieve(SOURCE, ["The mayor opened a bridge.", "The bridge cost 40 million euros."], 2)
    assert found[0][0].text == "The mayor opened the new bridge after three years of work."
    assert found[1][0].text.startswith("The bridge cost 40 million euros")
    for evs in found:
        assert len(evs) == 2
        assert evs[0].score >= evs[1].score
        for e in evs:
            assert SOURCE.text[e.span.start : e.span.end] == e.text


def test_evidence_hybrid_reports_the_embedding_floor():
    r = HybridRetriever(HashEncoder())
    found = r.search(SOURCE, ["The mayor opened the new bridge after three years of work.", "Zebras dance."], 3)
    assert found[0].stats["emb_sent"] == pytest.approx(1.0, abs=1e-5)
    assert found[0].stats["emb_win"] < found[0].stats["emb_sent"]
    assert found[1].stats["emb_sent"] == pytest.approx(0.0, abs=1e-6)
    assert found[1].stats["lex_best"] == 0.0


def test_evidence_hybrid_window_beats_sentences_for_a_fused_claim():
    r = HybridRetriever(HashEncoder())
    (hit,) = r.search(SOURCE, ["Fishermen opposed the plan; the bridge cost 40 million euros."], 3)
    assert hit.stats["emb_win"] > hit.stats["emb_sent"]


def _long_source(words: int = 50_000) -> Document:
    sentences = []
    n = 0
    i = 0
    while n < words:
        s = f"Report {i} says the harbour committee number {i} reviewed routine maintenance schedules."
        sentences.append(s)
        n += len(s.split())
        i += 1
    sentences[-3] = "The lighthouse keeper Ingrid Solberg discovered a shipwreck full of silver coins."
    return Document(" ".join(sentences))


@pytest.mark.parametrize("retriever_kind", ["lexical", "hybrid", "hybrid-all"])
def test_evidence_reads_a_50000_word_source_in_full_with_bounded_memory(retriever_kind):
    doc = _long_source()
    assert len(doc.text.split()) >= 50_000
    enc = HashEncoder()
    retriever = {
        "lexical": LexicalRetriever(),
        "hybrid": HybridRetriever(enc),
        "hybrid-all": HybridRetriever(enc, shortlist=None),
    }[retriever_kind]
    _ = doc.sentences, doc.words  # the document's own views are not the retriever's memory
    tracemalloc.start()
    try:
        found = retriever.retrieve(doc, ["Ingrid Solberg found a shipwreck with silver coins."], 3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found[0][0].text.startswith("The lighthouse keeper Ingrid Solberg")  # near the very end
    # One block of embeddings is ~0.4 MB; the whole source at once would be ~10 MB.
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    if retriever_kind == "hybrid":
        # every sentence was read (the needle is near the end), but only the shortlist embedded:
        # the query, its 8 best sentences by word overlap and the neighbours of its best two
        assert enc.calls[0] == 1 and sum(enc.calls[1:]) <= 8 + 4
    if retriever_kind == "hybrid-all":
        assert max(enc.calls) <= BLOCK_SENTENCES
        assert sum(enc.calls) == len(doc.sentences) + 1  # every sentence once, plus the query


def test_evidence_hybrid_shortlist_keeps_what_matters_and_the_window_neighbours():
    # 40 sentences; the claim fuses sentence 20 with its neighbour 21, which shares no word with it
    filler = [f"Item {i} of the agenda covered parking fees in district {i}." for i in range(40)]
    filler[20] = "The lighthouse keeper Ingrid Solberg found a shipwreck."
    filler[21] = "It held thousands of silver coins."
    doc = Document(" ".join(filler))
    query = "Ingrid Solberg found a shipwreck; it held thousands of silver coins."
    short, full = HybridRetriever(HashEncoder(), shortlist=3), HybridRetriever(HashEncoder(), shortlist=None)
    (a,), (b,) = short.search(doc, [query], 2), full.search(doc, [query], 2)
    assert [e.text for e in a.evidence] == [e.text for e in b.evidence]
    assert a.stats == pytest.approx(b.stats)
    assert sum(short.encoder.calls) < sum(full.encoder.calls) / 4


def test_evidence_hybrid_caches_embeddings_by_text_between_calls():
    enc = HashEncoder()
    r = HybridRetriever(enc)
    r.retrieve(SOURCE, ["The mayor opened a bridge."], 1)
    r.retrieve(SOURCE, ["The council met."], 1)
    assert enc.calls == [1, len(SOURCE.sentences), 1]  # the second call embeds only its claim
    r.retrieve(Document("The council met on Monday. Wolves howled."), ["The mayor opened a bridge."], 1)
    assert enc.calls[3:] == [1]  # a sentence seen in another source is not embedded again
    r.clear_cache()
    r.retrieve(SOURCE, ["The council met."], 1)
    assert enc.calls[4:] == [1, len(SOURCE.sentences)]
    assert HybridRetriever(HashEncoder(), cache_size=0).embed(["a b", "a b"]).shape == (2, 384)


def test_evidence_hybrid_rejects_an_empty_shortlist():
    with pytest.raises(ValueError, match="shortlist"):
        HybridRetriever(HashEncoder(), shortlist=0)


def test_evidence_hybrid_with_no_queries_returns_nothing():
    assert HybridRetriever(HashEncoder()).retrieve(SOURCE, [], 3) == []


def test_evidence_hybrid_with_the_real_encoder_finds_a_paraphrase():
    from verisum.encoder import Encoder

    enc = Encoder(intra_op_num_threads=1).load()
    doc = Document(
        "Shares fell sharply on Tuesday. The head of state travelled to Beijing for talks with Chinese leaders. "
        "Rain is expected later this week."
    )
    (evs,) = HybridRetriever(enc).retrieve(doc, ["The president visited China."], 1)
    assert evs[0].text.startswith("The head of state travelled to Beijing")
    v = enc.encode(["The president visited China.", "The president visited China."])
    assert v.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
