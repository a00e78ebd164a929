"""The judge stage and what follows it, with stand-in judges whose answers depend on the premise:
SummaC-style premises, the contradicted verdict, probabilities that agree with the label, and
the words at fault found by occlusion."""

from __future__ import annotations

import re
from typing import Any, Sequence

import pytest

from verisum import Checker, Label
from verisum.faults import FILLERS, blamed_words, occlusions
from verisum.claims import summary_claims
from verisum.document import Document
from verisum.judges import Judgement

_WORD = re.compile(r"\w+")

SOURCE = (
    "The council approved the budget on Monday. "
    "The mayor said the new library will open in May. "
    "Rain fell all week in the valley."
)


class OverlapJudge:
    """Supported when every word of the claim is in the premise; contradicted when the premise
    holds a word the claim's ``opposites`` map says it denies; unsupported otherwise."""

    name = "overlap"

    def __init__(self, opposites: dict[str, str] | None = None) -> None:
        self.opposites = opposites or {}
        self.seen: list[Any] = []

    def params(self) -> dict[str, Any]:
        return {}

    def judge(self, pairs: Sequence[Any]) -> list[Judgement]:
        self.seen.extend(pairs)
        out = []
        for p in pairs:
            prem = set(_WORD.findall(p.premise.lower()))
            hyp = _WORD.findall(p.hypothesis.lower())
            if any(self.opposites.get(w) in prem for w in hyp):
                out.append(Judgement(0.05, 0.85, 0.10))
            elif hyp and all(w in prem for w in hyp):
                out.append(Judgement(0.90, 0.02, 0.08))
            else:
                out.append(Judgement(0.10, 0.10, 0.80))
        return out


def test_premises_each_sentence_alone_and_all_joined():
    judge = OverlapJudge()
    Checker(judge, top_k=2, occlusion=False, verbatim_shortcut=False).check(SOURCE, "- The mayor said the library opens.")
    premises = {p.premise for p in judge.seen}
    assert len(premises) == 3  # two sentences alone, and both joined in source order
    joined = max(premises, key=len)
    singles = sorted(premises - {joined}, key=SOURCE.index)
    assert joined == " ".join(singles)  # in source order, as they read in the article


def test_premises_joined_only_asks_once_per_claim():
    judge = OverlapJudge()
    Checker(judge, top_k=3, premises="joined", occlusion=False, verbatim_shortcut=False).check(
        SOURCE, "- The mayor said the library opens.")
    assert len(judge.seen) == 1


def test_premises_a_claim_supported_by_one_sentence_is_supported():
    # Joined, the other sentences dilute nothing for this judge, but the single sentence is the
    # best premise and the verdict quotes it first.
    result = Checker(OverlapJudge(), top_k=3, occlusion=False, verbatim_shortcut=False).check(
        SOURCE, "- Rain fell all week.")
    (claim,) = result.claims
    assert claim.label is Label.SUPPORTED
    assert claim.evidence[0].text == "Rain fell all week in the valley."


def test_premises_contradicted_when_a_premise_contradicts_and_its_sentence_leads_the_evidence():
    judge = OverlapJudge({"rejected": "approved"})
    result = Checker(judge, top_k=3, occlusion=False, verbatim_shortcut=False).check(
        SOURCE, "- The council rejected the budget.")
    (claim,) = result.claims
    assert claim.label is Label.CONTRADICTED
    assert claim.evidence[0].text == "The council approved the budget on Monday."
    # probabilities agree with the label: contradicted is the largest of the three
    assert max(claim.probs, key=claim.probs.get) == "contradicted"
    assert claim.probs["supported"] == claim.score
    assert sum(claim.probs.values()) == pytest.approx(1.0)


def test_premises_unsupported_claims_never_read_contradicted_in_their_probs():
    result = Checker(OverlapJudge(), top_k=2, occlusion=False, verbatim_shortcut=False).check(
        SOURCE, "- Penguins sang opera in Paris.")
    (claim,) = result.claims
    assert claim.label is Label.UNSUPPORTED
    assert claim.probs["unsupported"] >= claim.probs["contradicted"]


def test_premises_summary_score_is_the_mean_of_its_sentences_and_label_the_worst():
    result = Checker(OverlapJudge(), top_k=2, occlusion=False, verbatim_shortcut=False).check(
        SOURCE, "- Rain fell all week.\n- Penguins sang opera in Paris.")
    good, bad = result.sentences
    assert result.score == pytest.approx((good.score + bad.score) / 2)
    assert result.label is Label.UNSUPPORTED


# -- words at fault by occlusion ----------------------------------------------------------------
def _claim(text: str, i: int = 0):
    return [c for _, cs in summary_claims(Document(text)) for c in cs][i]


def test_occlusions_drop_one_word_at_a_time_and_skip_fillers():
    claim = _claim("Additionally, the council did not approve the budget.")
    dropped = {w.text: hyp for w, hyp in occlusions(claim)}
    assert "Additionally" not in dropped and "additionally" in FILLERS
    assert dropped["not"] == "Additionally, the council did approve the budget."
    assert "the" not in dropped  # stopwords state nothing by themselves


def test_occlusions_of_a_clause_keep_its_main_claim():
    claim = _claim("Putin will meet Xi, highlighting the importance of insulation.", 1)
    dropped = {w.text: hyp for w, hyp in occlusions(claim)}
    assert dropped["insulation"] == "Putin will meet Xi, highlighting the importance of."
    assert "Putin" not in dropped  # only the clause's own words are candidates


def test_blamed_words_keep_the_words_that_help_most():
    words = ["a", "b", "c", "d"]
    assert blamed_words(words, [0.02, 0.6, 0.35, 0.05]) == ("b", "c")
    assert blamed_words(words, [0.01, 0.02, 0.03, 0.05]) == ()  # nothing helps enough
    assert blamed_words([], []) == ()


def test_faults_by_occlusion_mark_the_word_the_judge_blames():
    # Every word is in the source, so no word list can find it: only the judge can.
    judge = OverlapJudge({"tuesday": "monday"})
    result = Checker(judge, top_k=2, verbatim_shortcut=False).check(
        "The council approved the budget on Monday. Rain fell on Tuesday.",
        "- The council approved the budget on Tuesday.")
    (claim,) = result.claims
    assert claim.label is Label.CONTRADICTED
    assert [f.text for f in claim.faults] == ["Tuesday"]


def test_faults_without_occlusion_fall_back_to_the_word_lists():
    judge = OverlapJudge()
    result = Checker(judge, top_k=2, occlusion=False, verbatim_shortcut=False).check(
        SOURCE, "- The council approved the budget in Leeds.")
    (claim,) = result.claims
    assert [f.text for f in claim.faults] == ["Leeds"]
    assert len(judge.seen) == 3  # the premises only: no occluded claims were asked about


def test_premises_join_first_asks_the_join_alone_when_it_settles_the_claim():
    judge = OverlapJudge()
    result = Checker(judge, top_k=3, premises="join_first", occlusion=False, verbatim_shortcut=False).check(
        SOURCE, "- Rain fell all week.")
    assert len(judge.seen) == 1 and judge.seen[0].premise.count(".") == 3  # the three sentences joined
    (claim,) = result.claims
    assert claim.label is Label.SUPPORTED
    # the verdict still quotes the best-retrieved sentence first
    assert claim.evidence[0].text == "Rain fell all week in the valley."


def test_premises_join_first_reads_every_sentence_when_the_join_does_not_settle():
    judge = OverlapJudge({"rejected": "approved"})
    result = Checker(judge, top_k=3, premises="join_first", occlusion=False, verbatim_shortcut=False).check(
        SOURCE, "- The council rejected the budget.")
    assert len({p.premise for p in judge.seen}) == 4  # the join, then each sentence alone
    (claim,) = result.claims
    assert claim.label is Label.CONTRADICTED
    assert claim.evidence[0].text == "The council approved the budget on Monday."


def test_premises_default_is_join_first():
    assert Checker(OverlapJudge()).load().premises == "join_first"


class CuttingJudge(OverlapJudge):
    """Cuts every premise longer than ``limit`` characters, and says so, as the embedded judge
    does when a pair passes its token limit."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def judge(self, pairs: Sequence[Any]) -> list[Judgement]:
        from dataclasses import replace

        out = super().judge(pairs)
        return [replace(j, truncated=len(p.premise) > self.limit) for p, j in zip(pairs, out)]


def test_premises_evidence_cut_only_when_the_premise_behind_the_verdict_was():
    """Issue 11: "evidence was cut" appeared on short evidence. The flag is the verdict's own
    premise's: a claim settled by one short sentence is not cut, though its long join was."""
    judge = CuttingJudge(limit=60)
    result = Checker(judge, top_k=3, premises="sentences", occlusion=False, verbatim_shortcut=False).check(
        SOURCE, "- Rain fell all week.")
    (claim,) = result.claims
    assert any(len(p.premise) > 60 for p in judge.seen)  # the join was cut ...
    assert claim.evidence[0].text == "Rain fell all week in the valley."
    assert claim.truncated is False  # ... but the verdict rests on the short sentence alone
    result = Checker(CuttingJudge(limit=10), top_k=3, premises="sentences", occlusion=False,
                     verbatim_shortcut=False).check(SOURCE, "- Rain fell all week.")
    assert result.claims[0].truncated is True  # every premise was cut: say so


def test_premises_join_first_reads_the_same_premises_alone_and_in_a_batch():
    """A settled claim reads its join alone even when another record of the batch made the
    judge read one of its sentences (same sentence, same claim, another source)."""
    settled = ("a", "Rain fell all week in the valley. The council met on Monday.", "Rain fell all week.")
    unsettled = ("b", "Rain fell all week in the valley. A drought followed in May.", "Rain fell all week.")
    checker = Checker(OverlapJudge({"rain": "drought"}), top_k=2, premises="join_first", occlusion=False,
                      verbatim_shortcut=False)
    alone = checker.analyse([settled])[0].claims[0]
    both = checker.analyse([settled, unsettled])
    assert [p for p, _ in alone.premise_judgements] == [p for p, _ in both[0].claims[0].premise_judgements]
    assert len(alone.premise_judgements) == 1  # the join settled it
    assert len(both[1].claims[0].premise_judgements) == 3  # the other claim read every premise


class _CombinedJudge(OverlapJudge):
    """A judge that brings its own combiner, fitted (as ``verisum train combiner`` records) for
    the premise rule ``fitted_for``."""

    def __init__(self, fitted_for: str | None) -> None:
        super().__init__()
        self.fitted_for = fitted_for

    def calibrator(self) -> Any:
        from verisum.calibration import Calibrator

        return Calibrator(premises=self.fitted_for)


def test_a_combiner_records_the_premise_rule_it_was_fitted_for():
    from verisum.calibration import Calibrator

    assert Calibrator.from_json(Calibrator(premises="joined").to_json()).premises == "joined"
    assert Calibrator.from_json(Calibrator().to_json()).premises is None  # a `verisum calibrate` file names none


def test_reading_claims_another_way_than_the_judges_combiner_was_fitted_for_is_warned_about():
    import warnings

    from verisum.calibration import Calibrator

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Checker(_CombinedJudge("join_first")).load()  # the default rule: what it was fitted for
        Checker(_CombinedJudge(None), premises="joined").load()  # fitted for no rule it names
        Checker(_CombinedJudge("join_first"), premises="joined", calibration=Calibrator()).load()  # one's own
    with pytest.warns(UserWarning, match="premises='join_first'.*premises='joined'.*verisum train combiner"):
        checker = Checker(_CombinedJudge("join_first"), premises="joined").load()
    assert checker.premises == "joined"  # warned, not overruled
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # a derived Checker (as the protocol's collection makes) shares the combiner: said once, above
        assert checker.with_options(premises="sentences").premises == "sentences"
