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
        (BUDGET, "The council approved the budget on Tuesday.", "Tuesday"),  # swapped day (a value conflict)
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


def test_judgement_swapped_values_are_contradicted_with_the_conflicting_evidence(embedded_checker) -> None:
    source = ("Local taxes will rise by 2 percent next year, the treasurer said on Monday. "
              "The council meets again in March.")
    for claim, fault in [("Local taxes will rise by 5 percent next year.", "5"),
                         ("The treasurer spoke on Friday.", "Friday"),
                         ("The council meets again in June.", "June")]:
        (verdict,) = embedded_checker.check(source, claim).claims
        assert verdict.label is Label.CONTRADICTED, (claim, verdict.score)
        assert [f.text for f in verdict.faults if fault in f.text], (claim, [f.text for f in verdict.faults])
    # A value the source gives, written another way, is no conflict; nor is a value with nothing to clash with.
    for claim in ["Local taxes will rise by two percent next year.", "The council meets again in March."]:
        assert embedded_checker.check(source, claim).ok, claim


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
