"""Clause splitting: claims are spans of the summary, judged as stand-alone statements."""

from __future__ import annotations

import pytest

from verisum.claims import split_claims, summary_claims
from verisum.document import Document

SEED_HIGHLIGHTS = [
    "Despite the meeting with Erdogan in Kazakhstan, Putin has mentioned his desire for a new world order, "
    "stating that he wants to eliminate US hegemony.",
    "During the SCO summit in Astana, Putin is anticipated to discuss matters with China's Xi Jinping, "
    "highlighting the importance of insulation between their nations' interests.",
    "Interestingly, none of the leaders from the G7 countries, including Erdogan's ally Turkey, are attending "
    "the SCO summit in Kazakhstan, which is being chaired by none other than Putin's Kazakhstani counterpart.",
]


def _claims(text: str):
    return split_claims(Document(text).sentences[0])


def test_claims_spans_slice_the_summary_and_never_overlap():
    doc = Document("\n".join(f"- {h}" for h in SEED_HIGHLIGHTS))
    for sentence, claims in summary_claims(doc):
        last = -1
        for c in claims:
            assert doc.text[c.span.start : c.span.end] == c.text
            assert sentence.contains(c.span)
            assert c.span.start >= last
            last = c.span.end


def test_claims_participle_clause_is_its_own_claim_judged_with_the_main_clause():
    claims = _claims(SEED_HIGHLIGHTS[1])
    assert [c.text for c in claims] == [
        "During the SCO summit in Astana, Putin is anticipated to discuss matters with China's Xi Jinping",
        "highlighting the importance of insulation between their nations' interests.",
    ]
    assert claims[1].hypothesis.startswith("During the SCO summit in Astana, Putin is anticipated")
    assert claims[1].hypothesis.endswith("insulation between their nations' interests.")


def test_claims_including_aside_stays_in_the_main_claim():
    claims = _claims(SEED_HIGHLIGHTS[2])
    assert claims[0].text == (
        "Interestingly, none of the leaders from the G7 countries, including Erdogan's ally Turkey, "
        "are attending the SCO summit in Kazakhstan"
    )
    assert claims[1].text == "which is being chaired by none other than Putin's Kazakhstani counterpart."
    assert len(claims) == 2


def test_claims_leading_discourse_link_is_a_claim_judged_with_what_it_links():
    claims = _claims(SEED_HIGHLIGHTS[0])
    assert [c.text for c in claims] == [
        "Despite the meeting with Erdogan in Kazakhstan",
        "Putin has mentioned his desire for a new world order",
        "stating that he wants to eliminate US hegemony.",
    ]
    assert claims[0].hypothesis == (
        "Despite the meeting with Erdogan in Kazakhstan, Putin has mentioned his desire for a new world order"
    )
    assert claims[1].hypothesis == "Putin has mentioned his desire for a new world order"


@pytest.mark.parametrize(
    "text, n",
    [
        ("The SCO includes Pakistan, Iran, Kyrgyzstan, Tajikistan, and Uzbekistan.", 1),  # a list, not clauses
        ("Putin, who leads Russia, said he wants peace, while Xi disagreed.", 2),
        ("After the talks, leaders left.", 1),  # too short to split
        ("The mayor opened the bridge; the council paid for it.", 2),
        ("Prices rose sharply in May, prompting the bank to act.", 2),
    ],
)
def test_claims_count(text, n):
    assert len(_claims(text)) == n


def test_claims_list_after_including_at_the_end_is_a_claim():
    claims = _claims("The bloc has six members, including Pakistan, Iran and Kyrgyzstan.")
    assert [c.text for c in claims] == ["The bloc has six members", "including Pakistan, Iran and Kyrgyzstan."]
