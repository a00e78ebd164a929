"""verisum.edits, verisum.fix(), Checker.fix, `verisum fix`, `verisum eval-fix` and POST /v1/fix.

The must-shows run on the shipped model: on the example article and the seed, every sentence
that was not supported comes back supported or proposed for deletion, and every edit that
changes words keeps at least 80% of the sentence's words.
"""
from __future__ import annotations

import json

import pytest

from verisum.document import Document, Span
from verisum.edits import Edit, apply_edits, word_overlap
from verisum.io import split_seed
from verisum.schema import FixResultModel
from verisum.verdicts import Label

# Each fact in a sentence of its own, so a correct edit copies a source sentence: the checker
# supports a copy without asking the judge, and these tests pin the edits, not the model.
COST_SOURCE = (
    "Harbour town opens floating solar farm\n"
    "The coastal town of Millbrook switched on a floating solar farm on its disused reservoir on Monday. "
    "The array of 4,200 panels will supply about 1,100 homes. The array cost 6.5 million euros. "
    "Most of it was paid by a regional climate fund. Mayor Anna Keller said the project had taken three years to plan."
)


def _assert_fixed(result):
    """Every sentence that was not supported is edited into a supported one or proposed for
    deletion; word-changing edits keep >= 80% of the words and add <= 20%."""
    failing = [sv for sv in result.check.sentences if sv.label is not Label.SUPPORTED]
    assert len(result.edits) == len(failing)
    for e, sv in zip(result.edits, failing):
        assert e.sentence == sv.sentence and e.before == sv.sentence.text
        if e.deleted:
            assert e.after == "" and e.score_after is None
            continue
        assert e.score_after is not None and e.score_after >= result.check.threshold
        assert e.after in result.text
        if e.kind != "drop_claim":
            assert e.kept >= 0.8 and e.new <= 0.2, e
    assert result.text == apply_edits(result.check.summary.text, result.edits)
    assert result.recheck is not None and result.recheck.summary.text == result.text


def test_fix_example_article(embedded_checker, example_article):
    seed = split_seed(example_article.read_text(encoding="utf-8"))
    result = embedded_checker.fix(seed.source, seed.summary)
    assert not result.check.ok and result.edits
    _assert_fixed(result)
    assert result.ok
    # the invented clause goes, the cost comes back from the evidence
    assert "export power" not in result.text
    assert "12 million" not in result.text
    cost = next(e for e in result.edits if "12 million" in e.before)
    if not cost.deleted:
        assert cost.kind == "substitute" and "6.5 million euros" in cost.after
        assert any("6.5 million euros" in ev.span.text for ev in cost.evidence)
        ev = cost.evidence[0]
        assert result.check.source.text[ev.span.start:ev.span.end] == ev.span.text


def test_fix_seed(embedded_checker, seed_path):
    seed = split_seed(seed_path.read_text(encoding="utf-8"))
    result = embedded_checker.fix(seed.source, seed.summary)
    _assert_fixed(result)
    assert result.recheck.ok
    # Each edit quotes a source sentence once, even where two of its claims retrieved the same one
    # (highlight 3's deletion listed source[235:403] twice).
    for e in result.edits:
        spans = [(ev.span.start, ev.span.end) for ev in e.evidence]
        assert len(spans) == len(set(spans)), e


def test_fix_puts_the_evidence_number_back(embedded_checker):
    result = embedded_checker.fix(COST_SOURCE, "The array cost 12 million euros.")
    (edit,) = result.edits
    assert edit.kind == "substitute" and edit.after == "The array cost 6.5 million euros."
    assert "“12” → “6.5”" in edit.reason
    assert result.ok and result.text == "The array cost 6.5 million euros."


def test_fix_drops_an_invented_clause(embedded_checker):
    summary = "Mayor Anna Keller said the project had taken three years to plan, highlighting plans to sell power to Norway by 2030."
    result = embedded_checker.fix(COST_SOURCE, summary)
    (edit,) = result.edits
    assert edit.kind == "drop_claim"
    assert edit.after == "Mayor Anna Keller said the project had taken three years to plan."
    assert edit.new == 0.0


def test_fix_leaves_a_supported_summary_alone(embedded_checker):
    summary = "The array of 4,200 panels will supply about 1,100 homes."
    result = embedded_checker.fix(COST_SOURCE, summary)
    assert result.check.ok and result.edits == () and result.text == summary and result.ok


def test_fix_module_function_and_public_api():
    import verisum
    import verisum.edits  # importing the module behind it must not shadow the function

    assert callable(verisum.fix) and "fix" in verisum.__all__
    assert verisum.fix.__module__ == "verisum.checker"


@pytest.mark.parametrize("kwargs, message", [({"min_kept": 1.5}, "min_kept"), ({"max_rounds": 0}, "max_rounds")])
def test_fix_rejects_bad_parameters(fake_checker, kwargs, message):
    from verisum.errors import InputError

    with pytest.raises(InputError, match=message):
        fake_checker.fix("A source sentence here.", "A summary here.", **kwargs)


def _edit(doc: Document, start: int, end: int, after: str) -> Edit:
    return Edit(sentence=Span(doc, start, end), kind="delete_sentence" if not after else "substitute",
                before=doc.text[start:end], after=after, reason="", evidence=(), score_before=0.1,
                score_after=None if not after else 0.9, kept=0.0, new=0.0)


def test_apply_edits_deletes_bullet_lines_and_substitutes():
    doc = Document("- One is fine.\n- Two is wrong.\n- Three is bad.")
    s = doc.sentences
    out = apply_edits(doc.text, [_edit(doc, s[1].start, s[1].end, ""), _edit(doc, s[2].start, s[2].end, "Three is good.")])
    assert out == "- One is fine.\n- Three is good."
    assert apply_edits(doc.text, [_edit(doc, s[2].start, s[2].end, "")]) == "- One is fine.\n- Two is wrong."
    para = Document("One is fine. Two is wrong. Three is bad.")
    p = para.sentences
    assert apply_edits(para.text, [_edit(para, p[1].start, p[1].end, "")]) == "One is fine. Three is bad."


def test_word_overlap_is_rouge1_recall_and_new_share():
    kept, new = word_overlap("The array cost 12 million euros.", "The array cost 6.5 million euros.")
    assert kept == pytest.approx(5 / 6) and new == pytest.approx(1 / 6)  # a number is one word
    assert word_overlap("A b c d.", "A b.") == (0.5, 0.0)


def test_cli_fix_text_json_diff(cli, example_article):
    res = cli("fix", example_article)
    assert res.exit_code == 1, res
    assert "corrected summary:" in res.stdout and "6.5 million euros" in res.stdout
    res = cli("fix", example_article, "--format", "json")
    assert res.exit_code == 1
    model = FixResultModel.model_validate_json(res.stdout)
    assert model.edits and model.fixed != model.summary
    for e in model.edits:
        assert model.summary[e.sentence.start:e.sentence.end] == e.sentence.text
        for ev in e.evidence:
            assert model.source[ev.start:ev.end] == ev.text
    res = cli("fix", example_article, "--format", "diff")
    assert res.exit_code == 1 and res.stdout.startswith("--- a/") and "\n-- The array cost 12 million" in res.stdout


def test_cli_fix_nothing_to_fix_exits_0(cli, tmp_path):
    art = tmp_path / "a.txt"
    art.write_text(COST_SOURCE + "\n- The array of 4,200 panels will supply about 1,100 homes.\n", encoding="utf-8")
    res = cli("fix", art)
    assert res.exit_code == 0, res
    assert res.stdout.startswith("verisum: nothing to fix")


def test_cli_fix_jsonl_one_line_per_record(cli, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps({"id": "a", "source": COST_SOURCE, "summary": ["The array cost 12 million euros."]}) + "\n"
        + "[" * 3000 + "\n"
        + json.dumps({"id": "c", "doc": COST_SOURCE, "summary": ";"}) + "\n", encoding="utf-8")
    res = cli("fix", "--jsonl", path)
    assert res.exit_code == 2, res
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == 3
    assert rows[0]["id"] == "a" and rows[0]["fixed"] == "- The array cost 6.5 million euros."
    assert rows[1]["ok"] is False and rows[1]["line"] == 2
    assert rows[2]["ok"] is False and rows[2]["id"] == "c" and rows[2]["code"] == "empty_input"


def test_cli_fix_writer_llm_needs_an_endpoint(cli, example_article):
    res = cli("fix", example_article, "--writer", "llm")
    assert res.exit_code == 2 and "--writer llm needs --writer-base-url" in res.stderr


def test_fix_with_a_rewriter_rechecks_its_rewrite(embedded_checker):
    """A writer's rewrite is an edit like any other: kept only when the checker supports it."""
    class Rewriter:
        name = "stub"

        def __init__(self, text):
            self.text, self.calls = text, 0

        def revise(self, article, finding, round):
            self.calls += 1
            return self.text

    bad = Rewriter("Bananas cost forty dollars on Mars.")
    result = embedded_checker.fix(COST_SOURCE, "The town's mayor resigned over the farm in 2019.", rewriter=bad)
    assert bad.calls >= 1 and all(e.kind != "rewrite" for e in result.edits)
    good = Rewriter("Mayor Anna Keller said the project had taken three years to plan.")
    wrong = "Mayor Anna Keller said the mayor resigned after three years."
    # The rewrite keeps 70% of the words: more than an edit may change by default ...
    result = embedded_checker.fix(COST_SOURCE, wrong, rewriter=good)
    assert [e.kind for e in result.edits] == ["delete_sentence"]
    # ... and, where nothing smaller is supported, re-checked and kept when the caller allows it.
    result = embedded_checker.fix(COST_SOURCE, "Bananas cost forty dollars on Mars.", rewriter=good, min_kept=0.0)
    assert [e.kind for e in result.edits] == ["rewrite"] and result.ok
    assert result.edits[0].after == good.text and "rewritten from the evidence by stub" in result.edits[0].reason


def test_eval_fix_counts(embedded_checker):
    from verisum.evaluation import LabelledRecord
    from verisum.edits import evaluate_fix

    faithful = [LabelledRecord(id="f", doc=COST_SOURCE, summary="The array cost 6.5 million euros.", label=1)]
    unfaithful = [LabelledRecord(id="u", doc=COST_SOURCE, summary="The array cost 12 million euros.", label=0)]
    ev = evaluate_fix(embedded_checker, faithful, unfaithful, seed=0)
    assert ev.perturbed == 1 and sum(s["n"] for s in ev.by_type.values()) == 1
    assert ev.unfaithful == 1 and ev.unfaithful_flagged == 1 and ev.unfaithful_supported == 1
    assert 0 <= ev.restored <= ev.caught <= ev.perturbed


def test_cli_eval_fix(cli, tmp_path):
    path = tmp_path / "bench.jsonl"
    path.write_text(
        json.dumps({"id": "f", "doc": COST_SOURCE, "summary": "The array cost 6.5 million euros.", "label": 1}) + "\n"
        + json.dumps({"id": "u", "doc": COST_SOURCE, "summary": "The array cost 12 million euros.", "label": 0}) + "\n",
        encoding="utf-8")
    res = cli("eval-fix", path, "--format", "json")
    assert res.exit_code == 0, res
    out = json.loads(res.stdout)
    assert out["perturbed"] == 1 and out["unfaithful"] == 1 and out["unfaithful_supported"] == 1
