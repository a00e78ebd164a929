"""The Checker's pipeline contract, with the fake judge (plumbing) and the real model (behaviour)."""

from __future__ import annotations

import pytest

from verisum import Checker, CheckResult, Label, Record, RecordError
from verisum.errors import BackendUnavailable, BadRecord, EmptyInput, InputError, InputTooLarge

SOURCE = (
    "Acme Corp opened a new factory in Leeds on Monday.\n"
    "The plant will employ 400 people, the company said. "
    "It cost 12 million pounds to build."
)
SUMMARY = "- Acme Corp opened a factory in Leeds.\n- The plant will employ 400 people."


def test_checker_check_gives_one_verdict_per_summary_sentence(fake_checker):
    result = fake_checker.check(SOURCE, SUMMARY)
    assert isinstance(result, CheckResult)
    assert [s.sentence.text for s in result.sentences] == [
        "Acme Corp opened a factory in Leeds.",
        "The plant will employ 400 people.",
    ]
    for sv in result.sentences:
        assert sv.claims and sv.score == min(c.score for c in sv.claims)
        for ev in sv.evidence:
            assert ev.span.doc is result.source
            assert ev.span in result.source.sentences
    assert result.score == min(s.score for s in result.sentences)
    assert result.meta["judge"]["judge"] == "fake"


def test_checker_check_accepts_a_list_of_bullets(fake_checker):
    result = fake_checker.check(SOURCE, ["Acme Corp opened a factory in Leeds.", "It cost 12 million pounds."])
    assert len(result.sentences) == 2
    assert result.summary.text.splitlines()[0] == "- Acme Corp opened a factory in Leeds."


@pytest.mark.parametrize("source, summary", [("", SUMMARY), ("  \n ", SUMMARY), (SOURCE, ""), (SOURCE, "\n\n")])
def test_checker_check_rejects_empty_input(fake_checker, source, summary):
    with pytest.raises(EmptyInput):
        fake_checker.check(source, summary)


def test_checker_check_rejects_a_wrong_type(fake_checker):
    with pytest.raises(InputError, match="must be a string or a list of strings"):
        fake_checker.check(SOURCE, 42)


def test_checker_limits_are_enforced_with_the_limit_named(fake_judge):
    with pytest.raises(InputTooLarge, match="limit is 50"):
        Checker(fake_judge, max_source_chars=50).check(SOURCE, SUMMARY)
    with pytest.raises(InputTooLarge, match="2 sentences; the limit is 1"):
        Checker(fake_judge, max_summary_sentences=1).check(SOURCE, SUMMARY)


@pytest.mark.parametrize("threshold, label", [(0.0, Label.SUPPORTED), (1.01, Label.UNSUPPORTED)])
def test_checker_threshold_decides_the_label(fake_judge, threshold, label):
    result = Checker(fake_judge, threshold=threshold).check(SOURCE, SUMMARY)
    assert result.threshold == threshold
    assert {s.label for s in result.sentences} == {label}


def test_checker_check_many_yields_one_item_per_input_in_order(fake_checker):
    records = [
        {"id": "a", "doc": SOURCE, "summary": SUMMARY, "line": 1},
        {"id": "b", "doc": SOURCE, "summary": "", "line": 2},
        RecordError("c", 3, BadRecord("line 3: not JSON")),
        Record(id="d", doc=SOURCE, summary=["The plant will employ 400 people."], line=4),
        {"id": "e", "doc": "", "summary": SUMMARY, "line": 5},
    ]
    seen = []
    out = list(fake_checker.check_many(records, batch_size=2, progress=lambda done, total: seen.append((done, total))))
    assert [o.id for o in out] == ["a", "b", "c", "d", "e"]
    assert [type(o).__name__ for o in out] == ["CheckResult", "RecordError", "RecordError", "CheckResult", "RecordError"]
    assert out[1].line == 2 and isinstance(out[1].error, EmptyInput)
    assert out[2].error.code == "bad_record"
    assert seen == [(i, 5) for i in range(1, 6)]


def test_checker_backend_failure_never_passes_as_supported(fake_backend):
    checker = Checker(fake_backend, judge_params={"model": "fail"})
    with pytest.raises(BackendUnavailable):
        checker.check(SOURCE, SUMMARY)
    out = list(checker.check_many([{"id": "x", "doc": SOURCE, "summary": SUMMARY}]))
    assert len(out) == 1 and isinstance(out[0], RecordError)
    assert out[0].error.code == "backend_unavailable"


def test_checker_constructor_validates_and_does_no_work(fake_judge):
    checker = Checker(fake_judge)
    assert fake_judge.calls == 0 and checker._judge is None
    with pytest.raises(InputError):
        Checker(fake_judge, top_k=0)


def test_checker_embedded_flags_an_invented_number_and_keeps_a_copied_sentence(embedded_checker):
    result = embedded_checker.check(
        SOURCE, "- The plant will employ 400 people, the company said.\n- The plant will employ 9,000 people."
    )
    first, second = result.sentences
    assert first.label is Label.SUPPORTED
    assert second.label is not Label.SUPPORTED
    assert "9,000" in [f.text for f in second.faults]
    assert result.label is not Label.SUPPORTED and not result.ok


def test_checker_with_options_shares_the_loaded_judge(fake_checker):
    derived = fake_checker.with_options(top_k=1, threshold=0.9)
    assert derived.judge_ is fake_checker.judge_
    assert (derived.top_k, derived.threshold_) == (1, 0.9)
    assert (fake_checker.top_k, fake_checker.threshold) == (2, None)
    result = derived.check(SOURCE, SUMMARY)
    assert all(len(c.evidence) == 1 for c in result.claims)


def test_checker_retriever_is_the_one_given_else_the_judges_own(fake_judge, embedded_checker):
    from verisum.evidence import HybridRetriever, LexicalRetriever

    given = LexicalRetriever()
    assert Checker(fake_judge, retriever=given).retriever_ is given
    assert isinstance(embedded_checker.retriever_, HybridRetriever)  # the embedded judge's static vectors
    assert embedded_checker.with_options(top_k=1).retriever_ is embedded_checker.retriever_


class _CountingJudge:
    """Records every pair it is asked about (plumbing only)."""

    name = "counting"

    def __init__(self):
        self.seen = []

    def params(self):
        return {}

    def judge(self, pairs):
        from verisum.judges import Judgement

        self.seen.extend(pairs)
        return [Judgement(supported=0.1, contradicted=0.1, unsupported=0.8) for _ in pairs]


def test_checker_verbatim_copy_is_supported_without_asking_the_judge():
    judge = _CountingJudge()
    summary = "- the plant will employ 400 people,   the company said\n- The plant will employ 4,000 people."
    result = Checker(judge, premises="joined", occlusion=False).check(SOURCE, summary)
    copied, changed = result.sentences
    assert copied.label is Label.SUPPORTED and copied.score == 1.0
    assert changed.label is Label.CONTRADICTED  # 4,000 where the source says 400: a swapped value
    assert [p.hypothesis for p in judge.seen] == ["The plant will employ 4,000 people."]


def test_checker_copy_without_the_source_photo_pointer_is_still_a_copy():
    judge = _CountingJudge()
    source = "Jo Bloggs (pictured left) opened the bridge on Monday. It cost 12 million pounds."
    summary = "- Jo Bloggs opened the bridge on Monday.\n- Jo Bloggs (not pictured) opened the bridge on Monday."
    copied, own_parenthesis = Checker(judge, premises="joined", occlusion=False).check(source, summary).sentences
    assert copied.label is Label.SUPPORTED and copied.score == 1.0
    # Only the source's pointer is ignored: a parenthesis the summary adds is judged.
    assert own_parenthesis.label is Label.UNSUPPORTED
    assert [p.hypothesis for p in judge.seen] == ["Jo Bloggs (not pictured) opened the bridge on Monday."]


def test_checker_verbatim_shortcut_can_be_turned_off():
    judge = _CountingJudge()
    result = Checker(judge, premises="joined", occlusion=False, verbatim_shortcut=False).check(SOURCE, "- It cost 12 million pounds to build.")
    assert len(judge.seen) == 1 and result.label is Label.UNSUPPORTED


def _evidence_only_calibrator(threshold=0.5):
    """A fitted combiner over word-overlap evidence features only (no judge output)."""
    from verisum.calibration import Calibrator

    X = [{"lex_doc": v, "novel_share": 1 - v} for v in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    return Calibrator(("lex_doc", "novel_share"), threshold=threshold).fit(X, [0, 0, 0, 1, 1, 1])


def test_checker_asks_the_judge_only_where_its_answer_can_change_the_result():
    judge = _CountingJudge()
    checker = Checker(judge, premises="joined", occlusion=False, calibration=_evidence_only_calibrator(), verbatim_shortcut=False)
    result = checker.check(SOURCE, "- The plant will employ 400 people.\n- Penguins sang opera in Paris.")
    kept, invented = result.sentences
    # the combiner supports the first on the evidence alone: no judge call, and it says so
    assert kept.label is Label.SUPPORTED
    assert kept.claims[0].probs == {} and "not asked" in kept.claims[0].rationale
    # the second fails the combiner; the judge is asked, and its answer picks the label
    assert [p.hypothesis for p in judge.seen] == ["Penguins sang opera in Paris."]
    probs = invented.claims[0].probs
    assert invented.label is Label.UNSUPPORTED and probs["unsupported"] > probs["contradicted"]
    # the claim's probabilities agree with its score and sum to one
    assert probs["supported"] == invented.claims[0].score and sum(probs.values()) == pytest.approx(1.0)
    assert invented.score == pytest.approx(checker._calibrator.score_many([
        checker.analyse([(None, SOURCE, "- Penguins sang opera in Paris.")])[0].claims[0].features])[0])


def test_checker_asks_the_judge_about_every_claim_when_the_calibrator_reads_it():
    judge = _CountingJudge()
    Checker(judge, premises="joined", occlusion=False, verbatim_shortcut=False).check(SOURCE, "- The plant will employ 400 people.\n- Penguins sang.")
    assert len(judge.seen) == 2  # the default calibrator passes the judge's "supported" through


def test_checker_analyse_asks_the_judge_about_every_claim_by_default():
    judge = _CountingJudge()
    checker = Checker(judge, premises="joined", occlusion=False, calibration=_evidence_only_calibrator(), verbatim_shortcut=False)
    (a,) = checker.analyse([(None, SOURCE, "- The plant will employ 400 people.\n- Penguins sang.")])
    assert len(judge.seen) == 2 and all(c.judgement is not None for c in a.claims)
    (b,) = checker.analyse([(None, SOURCE, "- The plant will employ 400 people.")], judge="needed")
    assert len(judge.seen) == 2 and [c.judgement for c in b.claims] == [None]


def test_checker_pickles_as_its_configuration(embedded_checker: Checker) -> None:
    """A loaded Checker (models, sessions, locks) pickles as its configuration, so batch
    workers and Ray actors receive it and load their own model; the copy judges the same."""
    import pickle

    copy = pickle.loads(pickle.dumps(embedded_checker))
    assert copy._judge is None and copy.top_k == embedded_checker.top_k
    source, summary = "The council approved the budget on Monday.", "The council rejected the budget."
    a, b = embedded_checker.check(source, summary), copy.check(source, summary)
    assert (a.label, a.score) == (b.label, b.score)


class _ConfidentJudge(_CountingJudge):
    """Reads every claim as unsupported with P 0.9 (supported 0.05)."""

    def judge(self, pairs):
        from verisum.judges import Judgement

        self.seen.extend(pairs)
        return [Judgement(supported=0.05, contradicted=0.05, unsupported=0.9) for _ in pairs]


def test_checker_reads_the_judges_vetoes_from_its_combiner():
    from verisum.calibration import Calibrator, Vetoes

    summary = "- The plant will employ 400 people."
    # An unfitted combiner passes P(supported) = 0.05 through; at threshold 0.04 that passes,
    # unless the unsupported veto (P 0.9 above 0.8) keeps the claim below the threshold.
    vetoed = Checker(_ConfidentJudge(), premises="joined", occlusion=False, verbatim_shortcut=False,
                     calibration=Calibrator(threshold=0.04)).check(SOURCE, summary)
    assert vetoed.label is Label.UNSUPPORTED and vetoed.score < 0.04
    off = Calibrator(threshold=0.04, vetoes=Vetoes(contradicted=None, unsupported=None))
    kept = Checker(_ConfidentJudge(), premises="joined", occlusion=False, verbatim_shortcut=False,
                   calibration=off).check(SOURCE, summary)
    assert kept.label is Label.SUPPORTED and kept.score == pytest.approx(0.05)
    higher = Calibrator(threshold=0.04, vetoes=Vetoes(contradicted=0.5, unsupported=0.95))
    assert Checker(_ConfidentJudge(), premises="joined", occlusion=False, verbatim_shortcut=False,
                   calibration=higher).check(SOURCE, summary).label is Label.SUPPORTED
