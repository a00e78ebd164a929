"""The cheap feature layer: names, numbers, dates and words the source lacks; negation; floor."""

from __future__ import annotations

import pytest

from verisum.claims import split_claims
from verisum.document import Document
from verisum.evidence import Evidence
from verisum.features import (
    ALIGN_FEATURES,
    FEATURE_NAMES,
    SourceIndex,
    add_summary_context,
    claim_features,
    judge_features,
    novel_tokens,
)
from verisum.judges import Judgement

SOURCE = Document(
    "Russian President Vladimir Putin will meet Recep Tayyip Erdogan in Kazakhstan on Wednesday. "
    "The summit in Astana starts on 4 July and 1,200 delegates will attend. "
    "Indian Prime Minister Narendra Modi is not expected at the summit."
)
INDEX = SourceIndex.build(SOURCE)


def _claim(text: str):
    doc = Document(text)
    return split_claims(doc.sentences[0])[0]


@pytest.mark.parametrize(
    "text, kind, expected",
    [
        ("Putin will meet leaders of the G7 in Astana.", "ents", ["G7"]),
        ("Putin will meet Macron in Kazakhstan.", "ents", ["Macron"]),
        ("The summit starts on 5 July.", "nums", ["5"]),
        ("About 1200 delegates will attend.", "nums", []),  # 1,200 written without the comma
        ("Two thousand delegates will attend.", "nums", ["Two", "thousand"]),
        ("Putin will meet Erdogan on Friday.", "dates", ["Friday"]),
        ("Putin will meet Erdogan on Wednesday.", "dates", []),
        ("Putin's meeting with Erdogan was planned.", "ents", []),  # possessive of a known name
    ],
)
def test_features_novel_tokens_by_kind(text, kind, expected):
    assert novel_tokens(text, INDEX)[kind] == expected


def test_features_novel_words_ignore_stopwords_and_stems():
    out = novel_tokens("The delegates are attending the summits in Astana.", INDEX)
    assert out["words"] == []


def test_features_claim_features_has_every_name_and_flags_the_invented_clause():
    claim = _claim("Putin will meet Erdogan, highlighting the importance of insulation.")
    ev = [Evidence(SOURCE.sentences[0], 0.9)]
    j = Judgement(0.2, 0.1, 0.7)
    align = {"align_mean": 0.7, "align_min": 0.3, "soft_novel": 0.4}
    feats = claim_features(claim, ev, j, SOURCE, INDEX, {"emb_sent": 0.8, "emb_win": 0.85, "lex_best": 0.6, **align})
    add_summary_context([feats])
    assert set(FEATURE_NAMES) <= set(feats)
    assert {k: feats[k] for k in ALIGN_FEATURES} == align  # passed through from the retriever's stats
    assert not set(ALIGN_FEATURES) & set(claim_features(claim, ev, j, SOURCE, INDEX, {}))
    assert feats["supported"] == pytest.approx(0.2)
    assert feats["emb_best"] == pytest.approx(0.85)
    full = split_claims(Document("Putin will meet Erdogan, highlighting the importance of insulation.").sentences[0])
    clause = claim_features(full[1], ev, j, SOURCE, INDEX, {})
    assert clause["novel_words"] >= 3  # highlighting, importance, insulation
    assert clause["novel_share"] == pytest.approx(1.0)
    assert feats["novel_words"] == 0  # the main claim's own words are all in the source


@pytest.mark.parametrize(
    "claim_text, evidence_index, mismatch",
    [
        ("Narendra Modi is expected at the summit.", 2, 1.0),  # source says "not expected"
        ("Narendra Modi is not expected at the summit.", 2, 0.0),
        ("Putin won't meet Erdogan in Kazakhstan.", 0, 1.0),
        ("Putin will meet Erdogan in Kazakhstan.", 0, 0.0),
    ],
)
def test_features_negation_mismatch_against_best_evidence(claim_text, evidence_index, mismatch):
    ev = [Evidence(SOURCE.sentences[evidence_index], 0.9)]
    feats = claim_features(_claim(claim_text), ev, None, SOURCE, INDEX, {})
    assert feats["neg_mismatch"] == mismatch


def test_features_without_embedding_stats_fall_back_to_lexical():
    ev = [Evidence(SOURCE.sentences[0], 0.4)]
    feats = claim_features(_claim("Putin will meet Erdogan."), ev, None, SOURCE, INDEX, None)
    assert feats["emb_sent"] == feats["lex_best"] == pytest.approx(0.4)
    assert feats["supported"] == pytest.approx(1 / 3)


def test_features_judge_features_logits_are_monotone():
    lo = judge_features(Judgement(0.1, 0.1, 0.8))
    hi = judge_features(Judgement(0.9, 0.05, 0.05))
    assert hi["logit_supported"] > lo["logit_supported"]
    assert hi["margin"] > lo["margin"]
    assert hi["margin"] == pytest.approx(hi["logit_supported"] - hi["logit_contradicted"])
    assert set(lo) == {"supported", "contradicted", "unsupported", "logit_supported", "logit_contradicted", "margin"}


def test_features_bigrams_flag_recombined_words():
    same = claim_features(_claim("Putin will meet Erdogan in Kazakhstan."), [], None, SOURCE, INDEX, {})
    mixed = claim_features(_claim("Erdogan will meet Modi in Astana delegates."), [], None, SOURCE, INDEX, {})
    assert same["novel_bigrams"] < mixed["novel_bigrams"]


def test_features_summary_context_is_the_mean_over_the_summary():
    feats = [{"emb_best": 0.2, "lex_best": 0.0, "lex_doc": 1.0, "novel_share": 0.0},
             {"emb_best": 0.6, "lex_best": 1.0, "lex_doc": 0.5, "novel_share": 0.5}]
    add_summary_context(feats)
    assert feats[0]["sum_emb_best"] == feats[1]["sum_emb_best"] == pytest.approx(0.4)
    assert feats[0]["sum_lex_doc"] == pytest.approx(0.75)
