"""verisum.perturb and `verisum perturb`: one test per error type, spans, determinism, the CLI."""
from __future__ import annotations

import json

import pytest

from verisum.errors import EmptyInput, InputError
from verisum.perturb import ERROR_TYPES, changed_span, perturb

SOURCE = (
    "Harbour town opens solar farm\n"
    "The coastal town of Millbrook switched on a floating solar farm on Monday, the town council said. "
    "The array of 4,200 panels cost 6.5 million euros, most of it paid by the Regional Climate Fund. "
    "Mayor Anna Keller met Peter Brandt in Hamburg to discuss the importance of the reservoir. "
    "The council will open the northern third of the water because of the birds, while critics said "
    "the plan ignored the fishermen. Keller said the farm was a success."
)

#: For each type, a summary sentence that type can change.
CASES = {
    "entity": "Mayor Anna Keller met Peter Brandt in Hamburg.",
    "number": "The array of 4,200 panels cost 6.5 million euros.",
    "negation": "The council will open the northern third of the water.",
    "predicate": "The council approved the largest solar farm.",
    "agent": "In Hamburg, Anna Keller met Peter Brandt.",
    "place_time": "Keller said the farm was a success.",
    "invented_clause": "Keller said the farm was a success.",
    "discourse": "The council will open the water because of the birds.",
    "fused": "Keller said the farm was a success.",
    "recombined": "Keller said the farm was a success.",
}


def test_perturb_every_type_has_a_case():
    assert set(CASES) == set(ERROR_TYPES)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_perturb_makes_each_error_type_with_its_span(kind):
    summary = "- " + CASES[kind]
    variants = perturb(SOURCE, summary, types=[kind], seed=3)
    assert variants, f"no {kind} variant of {summary!r}"
    v = variants[0]
    assert v.error_type == kind and v.frank == ERROR_TYPES[kind].frank
    assert v.summary != summary and v.before == CASES[kind] and v.after != v.before
    # the summary is the original with one sentence replaced
    assert v.summary == summary.replace(v.before, v.after)
    # the span marks changed words of the variant, inside the changed sentence
    assert 2 <= v.start < v.end <= 2 + len(v.after)
    marked = v.summary[v.start:v.end]
    assert marked.strip() == marked and marked
    rec = v.to_record()
    assert rec["label"] == 0 and rec["spans"] == [{"start": v.start, "end": v.end, "text": marked}]
    assert rec["doc"] == SOURCE and rec["error_type"] == kind


def test_perturb_specific_changes():
    number = perturb(SOURCE, CASES["number"], types=["number"], seed=1)[0]
    assert number.after != CASES["number"] and any(c.isdigit() for c in number.summary[number.start:number.end])
    neg = perturb(SOURCE, CASES["negation"], types=["negation"], seed=1)[0]
    assert "not" in neg.after or "no longer" in neg.after
    clause = perturb(SOURCE, CASES["invented_clause"], types=["invented_clause"], seed=1)[0]
    assert clause.after.startswith("Keller said the farm was a success") and len(clause.after) > len(clause.before)
    assert clause.summary[clause.start:clause.end] in clause.after[len("Keller said the farm was a success"):]


def test_perturb_recombined_gives_the_subject_another_sentences_predicate():
    v = perturb(SOURCE, CASES["recombined"], types=["recombined"], seed=1)[0]
    # every word from the source, the pairing invented: what Millbrook did, said of Keller
    assert v.after == "Keller switched on a floating solar farm on Monday, the town council said."
    assert v.after not in SOURCE and v.after[len("Keller "):] in SOURCE
    assert v.summary[v.start:v.end].startswith("switched on")  # the predicate is at fault, not the name
    # a subject without a name ("The council") may be anyone the source names: no variant
    assert perturb(SOURCE, "The council will open the northern third of the water.", types=["recombined"]) == []
    # nothing to pair it with: the only other named subject is Keller again, under a longer name
    assert perturb("Keller said the farm was a success. Mayor Anna Keller has praised the council for its work.",
                   CASES["recombined"], types=["recombined"]) == []


@pytest.mark.parametrize("sentence, parts", [
    ("The council has approved the plan for the farm.", ("The council", "has approved the plan for the farm.")),
    ("Keller said the farm was a success.", ("Keller", "said the farm was a success.")),
    ("He said the farm was a success.", None),  # a pronoun: whose predicate is unclear
    ("In March, the council said it was done.", None),  # an opening phrase, not a subject
    ("The council is here.", None),  # too short a predicate to be a claim of its own
])
def test_split_predicate(sentence, parts):
    from verisum.training.synth import split_predicate

    assert split_predicate(sentence) == parts


def test_recombine_keeps_the_verb_in_agreement():
    import random

    from verisum.training.synth import recombine

    others = ["The Reds are angry about the plan for the water.", "Mayor Smith was pleased with the new farm."]
    out = recombine("The Millbrook Panthers were beaten on the reservoir last year.", others, random.Random(0))
    assert out == "The Millbrook Panthers are angry about the plan for the water."  # never "... was pleased"
    assert recombine("McCoy won the National on the horse in 2010.", others[:1], random.Random(0)) is None
    # "The firm" and "TimeWarner" may be one company: no pairing that could be true
    assert recombine("The firm said profits rose by a third.", ["TimeWarner has bought the studio for cash."],
                     random.Random(0)) is None


def test_perturb_is_deterministic_and_seeded():
    a = [v.to_record() for v in perturb(SOURCE, "- " + CASES["entity"] + "\n- " + CASES["number"], seed=5, per_type=2)]
    b = [v.to_record() for v in perturb(SOURCE, "- " + CASES["entity"] + "\n- " + CASES["number"], seed=5, per_type=2)]
    assert a == b and a
    others = [perturb(SOURCE, "- " + CASES["number"], types=["number"], seed=s)[0].after for s in range(8)]
    assert len(set(others)) > 1


def test_perturb_skips_types_it_cannot_make():
    assert perturb(SOURCE, "Keller was pleased.", types=["number"]) == []


def test_perturb_rejects_bad_arguments():
    with pytest.raises(InputError, match="not 'typo'"):
        perturb(SOURCE, "A sentence here.", types=["typo"])
    with pytest.raises(InputError, match="one or more of entity, number"):
        perturb(SOURCE, "A sentence here.", types=[" "])
    with pytest.raises(EmptyInput):
        perturb("   ", "A sentence here.")
    with pytest.raises(EmptyInput):
        perturb(SOURCE, " ; ")


@pytest.mark.parametrize("before, after, marked", [
    ("cost 12 million", "cost 9 million", "9"),
    ("cost 120 m", "cost 125 m", "125"),
    ("a counterpart.", "a counterpart in September.", "in September"),
    ("it will not go", "it will go", "will"),
    ("the plan, as said.", "the plan, highlighting X, as said.", "highlighting X"),
])
def test_perturb_changed_span(before, after, marked):
    a, b = changed_span(before, after)
    assert after[a:b] == marked


def test_cli_perturb_writes_eval_records(cli, tmp_path):
    art = tmp_path / "a.txt"
    art.write_text(SOURCE + "\n- " + CASES["number"] + "\n- " + CASES["entity"] + "\n", encoding="utf-8")
    res = cli("perturb", art, "--types", "number,entity", "--with-original", "--seed", "2")
    assert res.exit_code == 0, res
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert rows[0]["label"] == 1 and rows[0]["summary"].startswith("- The array")
    assert {r["error_type"] for r in rows[1:]} == {"number", "entity"}
    for r in rows[1:]:
        (span,) = r["spans"]
        assert r["summary"][span["start"]:span["end"]] == span["text"]
    again = cli("perturb", art, "--types", "number,entity", "--with-original", "--seed", "2")
    assert again.stdout == res.stdout


def test_cli_perturb_jsonl_keeps_every_record(cli, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "a", "source": SOURCE, "summary": [CASES["number"]]}) + "\n"
                    + "{not json\n"
                    + json.dumps({"id": "c", "doc": SOURCE, "summary": CASES["negation"]}) + "\n", encoding="utf-8")
    res = cli("perturb", "--jsonl", path, "--types", "number,negation")
    assert res.exit_code == 2, res
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r.get("id", "").split(":")[0] if "error" not in r else "ERR" for r in rows] == ["a", "ERR", "c"]
    assert rows[1]["line"] == 2 and rows[1]["ok"] is False


def test_cli_perturb_help_names_every_error_type(cli):
    """The help is written out (the CLI imports nothing heavy to show it): it must not drift."""
    res = cli("perturb", "--help")
    listed = " ".join(res.stdout.split()).split("[default: all]:")[1].split(".")[0]
    assert [t.strip() for t in listed.split(",")] == list(ERROR_TYPES)


def test_cli_perturb_bad_types_is_one_line_usage_error(cli, tmp_path):
    art = tmp_path / "a.txt"
    art.write_text(SOURCE + "\n- " + CASES["number"] + "\n", encoding="utf-8")
    res = cli("perturb", art, "--types", "nonsense")
    assert res.exit_code == 2 and res.stderr.startswith("verisum: error: --types") and res.stderr.count("\n") == 1


def test_perturb_is_the_same_in_every_process(tmp_path):
    """Same seed, same variants, whatever Python's hash seed (a set's order once leaked in)."""
    import os
    import subprocess
    import sys

    art = tmp_path / "a.txt"
    art.write_text(SOURCE + "\n- " + CASES["entity"] + "\n- " + CASES["agent"] + "\n- " + CASES["number"] + "\n",
                   encoding="utf-8")
    outs = []
    for hash_seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run([sys.executable, "-m", "verisum", "perturb", str(art), "--per-type", "3", "--seed", "4"],
                             capture_output=True, text=True, env=env, check=True)
        outs.append(run.stdout)
    assert outs[0] and outs[0] == outs[1] == outs[2]


def test_perturb_joins_bullets_as_the_checker_does():
    from verisum.checker import Checker
    from conftest import FakeJudge

    bullets = [" " + CASES["number"] + " ", "- " + CASES["entity"]]
    (v,) = perturb(SOURCE, bullets, types=["number"], seed=1)
    checked = Checker(FakeJudge()).check(SOURCE, bullets)
    assert v.original == checked.summary.text  # the variant's offsets and the check's agree
