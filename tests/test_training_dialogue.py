"""Dialogue-form training pairs: a fault-marked pair's premise spoken as turns, its claim
reported as a summary of a chat or call writes it, the words at fault moved with it."""

from __future__ import annotations

import json
import random
import re

import pytest

from verisum.training import dialogue

ROW = {"premise": "The council of Kell approved the budget on Monday. The mayor thanked its 14 members.",
       "claim": "The council of Kell rejected the budget on Monday.", "label": "contradicted",
       "faults": [[21, 29]], "kind": "minimal-pair", "dataset": "news"}
SUPPORTED = {**ROW, "claim": "The council of Kell approved the budget.", "label": "supported", "faults": []}


def _turns(premise: str) -> list[tuple[str, str]]:
    """Split a rendered premise back into (speaker, text) turns, one a line or run together."""
    names = "|".join(re.escape(n) for n in dialogue.NAMES + tuple(r for pair in dialogue.ROLES for r in pair))
    parts = re.split(rf"(?:^|\s)({names}): ", premise)
    return [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]


@pytest.mark.parametrize("seed", range(40))
def test_dialogue_rows_keep_the_words_at_fault_and_the_premise(seed):
    for base in (ROW, SUPPORTED):
        rows = dialogue.as_dialogue(base, random.Random(seed))
        assert rows and rows[0]["label"] == base["label"]
        turns = _turns(rows[0]["premise"])
        speakers = {who for who, _ in turns}
        assert len(speakers) == 2
        content = [text for _, text in turns if text not in dialogue.FILLERS]
        assert " ".join(content) == base["premise"]  # every sentence spoken, in order, nothing added
        for r in rows:
            marked = [r["claim"][a:b] for a, b in r["faults"]]
            if r["kind"].endswith("wrong-speaker"):
                assert r["label"] == "unsupported"
                listener = next(who for who, text in turns if text in dialogue.FILLERS)
                assert [m.lower() for m in marked] == [listener.lower()]
                assert all(text in dialogue.FILLERS for who, text in turns if who == listener)
            else:
                assert marked == [base["claim"][a:b] for a, b in base["faults"]]
                assert r["claim"].endswith(base["claim"][1:])


def test_reported_claims_name_the_speaker_who_said_it():
    kinds = set()
    for seed in range(60):
        for r in dialogue.as_dialogue(SUPPORTED, random.Random(seed)):
            kinds.add(r["kind"].rsplit(":", 1)[-1])
            if r["kind"].endswith(":reported") and not r["claim"].startswith("In the conversation"):
                informant = next(who for who, text in _turns(r["premise"]) if text not in dialogue.FILLERS)
                named = informant if informant in dialogue.NAMES else "the " + informant.lower()
                assert r["claim"].lower().startswith((named.lower() + " ", f"according to {named.lower()}, "))
                assert "the council of Kell approved" in r["claim"]  # "The" lower-cased after "that"
    assert kinds == {"minimal-pair", "reported", "wrong-speaker"}


def test_claims_in_the_first_or_second_person_are_never_reported():
    row = {**SUPPORTED, "premise": "I told you the council approved the budget.", "claim": "I said the budget passed."}
    for seed in range(30):
        (r,) = dialogue.as_dialogue(row, random.Random(seed))
        assert r["claim"] == row["claim"] and r["kind"] == "dialogue:minimal-pair"


def test_dialogue_command_writes_n_rows(tmp_path, capsys):
    src = tmp_path / "spans.jsonl"
    src.write_text("".join(json.dumps({**r, "claim": r["claim"].replace("Kell", k)}) + "\n"
                           for k in ("Kell", "Dorn", "Brae") for r in (ROW, SUPPORTED)), encoding="utf-8")
    out = tmp_path / "dialogue.jsonl"
    assert dialogue.main(["--spans", str(src), "--n", "5", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5 and all(r["kind"].startswith("dialogue:") for r in rows)
    assert sum(json.loads(capsys.readouterr().err).values()) == 5
