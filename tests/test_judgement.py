"""What the shipped judge must get right, pinned on the real model: plain contradictions are
*contradicted* (negated, swapped day, reversed verb), copies and light paraphrases are supported,
and the words at fault point at the change."""

from __future__ import annotations

import pytest

from verisum import Label

BUDGET = "The council approved the budget on Monday. The mayor thanked the members for their work."
SOLAR = (
    "The coastal town of Millbrook switched on a floating solar farm on its disused reservoir on "
    "Monday, the town council said. The array of 4,200 panels will supply about 1,100 homes."
)


@pytest.mark.parametrize(
    "source, claim, fault",
    [
        (BUDGET, "The council rejected the budget.", "rejected"),  # reversed verb
        (BUDGET, "The council did not approve the budget.", "not"),  # negated
        pytest.param(BUDGET, "The council approved the budget on Tuesday.", "Tuesday", marks=pytest.mark.xfail(
            strict=True, reason="known miss (issue 14): the judge reads a swapped weekday as supported (score about 0.64)")),
        (SOLAR, "Millbrook did not switch on a floating solar farm.", "not"),  # negated
    ],
)
def test_judgement_plain_contradictions_are_contradicted(embedded_checker, source, claim, fault):
    result = embedded_checker.check(source, claim)
    (verdict,) = result.claims
    assert verdict.label is Label.CONTRADICTED, (claim, verdict.score, verdict.probs)
    assert max(verdict.probs, key=verdict.probs.get) == "contradicted"
    assert any(fault in f.text for f in verdict.faults), [f.text for f in verdict.faults]
    assert result.ok is False


@pytest.mark.parametrize(
    "source, claim",
    [
        (BUDGET, "The council approved the budget on Monday."),  # verbatim
        (BUDGET, "On Monday the council approved the budget."),  # reordered
        (SOLAR, "Millbrook's floating solar farm on a disused reservoir was switched on."),  # light paraphrase
        (SOLAR, "The panels will supply about 1,100 homes."),
    ],
)
def test_judgement_copies_and_light_paraphrases_are_supported(embedded_checker, source, claim):
    result = embedded_checker.check(source, claim)
    assert result.ok, [(c.claim.text, c.label, c.score, c.probs) for c in result.claims]
    assert all(max(c.probs, key=c.probs.get) == "supported" for c in result.claims if c.probs)


def test_judgement_an_invented_fact_is_unsupported_not_contradicted(embedded_checker):
    result = embedded_checker.check(SOLAR, "The solar farm was paid for by local fishermen.")
    (verdict,) = result.claims
    assert verdict.label is not Label.SUPPORTED
    assert any("fishermen" in f.text for f in verdict.faults)
