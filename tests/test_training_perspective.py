"""Perspective pairs: a first-person NLI pair's hypothesis retold in the third person (a referent,
a speaker's name, or the wrong speaker), its label kept, the trainer's held-out rows left out."""

from __future__ import annotations

import json

import pytest

from verisum.training import perspective
from verisum.training.perspective import retell


@pytest.mark.parametrize("text, want", [
    ("I have a dog.", "The author has a dog."),
    ("I'm tired of it.", "The author is tired of it."),
    ("I've been to Paris.", "The author has been to Paris."),
    ("i don't know", "The author doesn't know"),
    ("I never really did.", "The author never really did."),
    ("Yesterday I walked home.", "Yesterday the author walked home."),
    ("I was late and my boss shouted at me.", "The author was late and their boss shouted at them."),
    ("My sister and I went home.", "The author's sister and the author went home."),
    ("He gave me my keys.", "He gave the author their keys."),
])
def test_retell_names_the_one_who_says_i_and_agrees_the_verb(text, want):
    assert retell(text, "the author") == want


@pytest.mark.parametrize("text", [
    "I like cheese.",                     # a present tense the rules cannot agree ("the author like")
    "I think we should go.",              # another "we": who would it be?
    "You and I went home.",
    "The car is red.",                    # no first person
    "I Kissed a Girl is a song.",         # titles, not someone speaking
    "The album In My Lifetime was released in 1997.",
])
def test_retell_refuses_what_it_cannot_retell_safely(text):
    assert retell(text, "the author") is None


def _rows():
    return [
        {"premise": "I was soon strong enough to move.", "hypothesis": "I was able to move.",
         "label": "supported", "dataset": "mnli_dev"},
        {"premise": "I was soon strong enough to move.", "hypothesis": "I was paralysed.",
         "label": "contradicted", "dataset": "mnli_dev"},
        {"premise": "I had my second chance.", "hypothesis": "I had a third chance.",
         "label": "unsupported", "dataset": "mnli_dev"},
        {"premise": "I Kissed a Girl is a song by Katy Perry.", "hypothesis": "I Kissed a Girl was a hit.",
         "label": "supported", "dataset": "vitaminc"},
        {"premise": "The council met.", "hypothesis": "I was at the council.", "label": "unsupported",
         "dataset": "mnli_dev"},
    ]


def test_perspective_rows_keep_the_label_and_mark_the_wrong_speaker():
    rows = list(perspective.perspective_pairs(_rows(), n=100, seed=0))
    kinds = [r["kind"].split(":")[1] for r in rows]
    assert kinds.count("referent") == 3 and kinds.count("speaker") == 3 and kinds.count("wrong-speaker") == 1
    by_source = {}
    for r in rows:
        assert not r["premise"].startswith("I Kissed") and "council" not in r["premise"]  # titles; no "I" in the premise
        assert " I " not in f" {r['claim']} " and "my" not in r["claim"].split()
        by_source.setdefault(r["kind"], []).append(r)
    for r in by_source["perspective:referent"]:
        assert r["premise"].startswith("I ") and r["claim"].split()[:2][0] == "The"
        assert r["faults"] == ([] if r["label"] == "supported" else None)  # wrong, but not where
    for r in by_source["perspective:speaker"]:
        speaker = r["premise"].split(":")[0]
        assert r["claim"].startswith(speaker + " ")
    (wrong,) = by_source["perspective:wrong-speaker"]
    speaker, other = wrong["premise"].split(":")[0], wrong["premise"].split("\n")[1].split(":")[0]
    assert wrong["label"] == "not_supported" and speaker != other
    assert wrong["premise"].split("\n")[1].split(": ")[1] in perspective._LISTENER_TURNS  # the other speaker says nothing
    assert [wrong["claim"][a:b] for a, b in wrong["faults"]] == [other]
    assert wrong["claim"] == f"{other} was able to move."
    assert len(list(perspective.perspective_pairs(_rows(), n=2, seed=0))) == 2


def test_the_cli_leaves_out_the_trainers_held_out_rows_and_the_trainer_reads_its_file(tmp_path, capsys):
    pytest.importorskip("torch")
    from verisum.training import nli

    data = tmp_path / "nli"
    data.mkdir()
    rows = [{"premise": f"I was at home on day {i}.", "hypothesis": f"I was at home on day {i}.", "label": "supported",
             "dataset": "mnli_dev"} for i in range(nli.HELD_OUT + 20)]
    rows[-1] = {**rows[-1], "hypothesis": "I was abroad.", "label": "contradicted"}
    (data / "mnli.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "perspective.jsonl"
    assert perspective.main(["--nli", str(data), "--out", str(out)]) == 0
    counts = json.loads(capsys.readouterr().err)
    made = [json.loads(line) for line in out.read_text().splitlines()]
    held = set(nli.split_held_out(len(rows), 13)[0])
    kept = {rows[i]["premise"] for i in range(len(rows)) if i not in held}
    assert made and {r["premise"].split(": ", 1)[-1].split("\n")[0] for r in made} <= kept
    assert sum(counts.values()) == len(made)
    back = nli.read_span_rows([str(out)])
    assert len(back) == len(made)
    assert all(b["faults"] is None for b, r in zip(back, made) if r["label"] == "contradicted")
    assert all(b["faults"] == [] for b, r in zip(back, made) if r["kind"] != "perspective:wrong-speaker"
               and r["label"] == "supported")
