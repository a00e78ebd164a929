"""Fast tests of the training-pair generators (no torch, no ../shared data needed)."""
from __future__ import annotations

import hashlib
import json
import random
import re

import pytest

from verisum.training import bench, synth  # the project's own modules: a missing one must fail

ART = [
    "Mr. Smith said the U.S. economy grew 2.5% in March, the fastest pace in a year.",
    "Alice Walker met Robert Jones in Paris on Tuesday to discuss the merger.",
    "The company will close 12 factories and cut 5,000 jobs, Walker said.",
    "Shares in Acme Corp rose 4% after the announcement, while rivals fell.",
    "Jones, who joined the firm in 1998, is expected to become chief executive.",
    "Carol Baker, the finance director, said the deal was approved by regulators.",
]


def _article():
    return synth.Article(0, list(ART))


def _gen():
    pools = synth.Pools()
    pools.finalize()
    return synth.Generator([ART], pools, seed=1)


def test_sentence_splitter_handles_abbreviations_and_decimals():
    text = "Mr. Smith went to Washington. The U.S. economy grew 2.5% last year. It was fine."
    assert synth.split_sentences(text) == [
        "Mr. Smith went to Washington.",
        "The U.S. economy grew 2.5% last year.",
        "It was fine.",
    ]


def test_paragraphs_are_boundaries():
    assert len(synth.split_sentences("First line without stop\n\nSecond line.")) == 2


def test_entity_swap_changes_exactly_one_entity():
    art = _article()
    g = _gen()
    ents_article = {t for es in art.ents for _, _, t, _ in es}
    found = 0
    for seed in range(40):
        rng = random.Random(seed)
        random.seed(seed)
        r = g.k_entity_swap(art, 1, rng)
        if not r:
            continue
        premise, claim = r
        assert ART[1] in premise
        # the claim equals some base derived from the source with one entity span replaced
        src = ART[1]
        diffs = [(old, new) for _, _, old, _ in synth.entities(src, art.caps) for new in ents_article
                 if new != old and src.replace(old, new, 1) == claim]
        if diffs:
            old, new = diffs[0]
            assert new in ents_article and old != new and old not in claim.replace(new, "")
            found += 1
    assert found > 0


def test_number_change_changes_one_number():
    s = "The company will close 12 factories and cut 5,000 jobs."
    random.seed(3)
    for _ in range(20):
        c = synth.c_number(s)
        assert c and c != s
        a, b = s.split(), c.split()
        assert len(a) == len(b)
        changed = [(x, y) for x, y in zip(a, b) if x != y]
        assert len(changed) == 1 and re.search(r"\d", changed[0][0])


def test_negation_flips_polarity():
    random.seed(0)
    s = "The company will close the factory."
    c = synth.c_negation(s)
    assert c == "The company will not close the factory."
    random.seed(1)
    out = {synth.c_negation("The plan was not approved.") for _ in range(10)}
    assert "The plan was approved." in out


def test_antonym_swaps_one_word():
    c = synth.c_antonym("Shares rose sharply.")
    assert c == "Shares fell sharply."


@pytest.mark.parametrize("fn", synth.COMPRESSIONS)
def test_compressions_only_delete_words(fn):
    random.seed(0)
    for s in ART + [
        "On Tuesday, the council approved the plan (which cost £5m) after a long debate.",
        "Profits rose 10%, according to the annual report.",
    ]:
        r = fn(s)
        if r is None:
            continue
        src = [w.strip(".,;\"").lower() for w in s.split()]
        for w in r.split():
            assert w.strip(".,;\"").lower() in src, (fn.__name__, s, r)
        assert len(r.split()) < len(s.split())


def test_number_format_preserves_value():
    random.seed(0)
    r = synth.t_number_format("They cut 5,000 jobs.")
    assert r == "They cut 5000 jobs."


def test_evidence_removed_excludes_source_sentence():
    art = _article()
    g = _gen()
    for seed in range(10):
        rng = random.Random(seed)
        random.seed(seed)
        r = g.k_evidence_removed(art, 2, rng)
        if r:
            premise, claim = r
            assert ART[2] not in premise


def test_generated_labels_follow_kind(tmp_path):
    corpus = tmp_path / "c.jsonl"
    with open(corpus, "w") as f:
        for i in range(30):
            f.write(json.dumps({"id": f"a{i}", "title": "t", "text": " ".join(ART[i % 3:] + ART[:i % 3]),
                                "source": "x"}) + "\n")
    out1, out2 = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    synth.generate(str(corpus), None, str(out1), str(tmp_path / "v1.jsonl"), seed=5, workers=1)
    synth.generate(str(corpus), None, str(out2), str(tmp_path / "v2.jsonl"), seed=5, workers=1)
    assert out1.read_text() == out2.read_text()  # deterministic
    kind2label = {k: lab for lab, ks in synth.KIND_WEIGHTS.items() for k, _ in ks}
    rows = [json.loads(x) for x in out1.read_text().splitlines()]
    assert rows
    for r in rows:
        assert r["label"] in synth.LABELS
        assert kind2label[r["kind"]] == r["label"]
        if r["label"] != "supported":
            assert r["claim"] not in r["premise"]


def test_split_of_is_deterministic_and_matches_formula():
    docs = [f"document number {i} text" for i in range(500)]
    for d in docs[:50]:
        want = "val" if int(hashlib.sha1(d.strip().encode("utf-8")).hexdigest(), 16) % 5 < 2 else "train"
        assert bench.split_of(d) == want == bench.split_of("  " + d + "\n")
    frac = sum(bench.split_of(d) == "val" for d in docs) / len(docs)
    assert 0.3 < frac < 0.5


def test_bench_spans_mark_sentences():
    r = {"dataset": "cliff", "doc": ART[0] + " " + ART[1], "summary": "Smith spoke. Jones flew to Rome.",
         "label": 0, "spans": [{"start": 26, "end": 30}]}
    ps = bench.pairs_from_record(r)
    assert [p["label"] for p in ps] == ["supported", "unsupported"]
