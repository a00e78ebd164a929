"""The extractive writer's learned sentence ranker: its features, the shipped file, fitting one."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from verisum.document import Document
from verisum.errors import InputError
from verisum.highlights.extractive import ExtractiveWriter
from verisum.highlights.ranker import DEFAULT_RANKER, FEATURES, load_ranker
from verisum.errors import BadRecord
from verisum.training.ranker import fit, main as train_main, oracle_labels, prepare, read_stories

ARTICLE = (
    "Flood waters forced 2,000 people from their homes in the town of Riverton on Sunday. "
    "Emergency crews worked through the night to reinforce the levee along the Mill river. "
    "\"We have never seen water this high,\" said a resident who has lived there for forty years. "
    "The mayor (pictured) said the town would need months to recover from the damage. "
    "Flood waters forced 2,000 people from their homes in Riverton, officials confirmed."
)


def _features(article: str) -> tuple[list[tuple[int, object, str]], list[dict[str, float]]]:
    eligible, _, feats = ExtractiveWriter(ranker=None).ranker_features(Document(article))
    return eligible, feats


def test_ranker_features_describe_each_candidate() -> None:
    eligible, feats = _features(ARTICLE)
    assert len(feats) == len(eligible) == 5
    assert all(set(f) == set(FEATURES) for f in feats)
    assert all(math.isfinite(v) for f in feats for v in f.values())
    first, crews, quote, mayor, repeat = feats
    assert first["first"] == 1.0 and all(f["first"] == 0.0 for f in feats[1:])
    assert first["pos"] > crews["pos"] > quote["pos"]
    # The last sentence repeats the first: it echoes, the first is echoed.
    assert repeat["echo"] > 0.5 and first["echoed"] > 0.5
    assert crews["echo"] < 0.3 and first["echo"] == 0.0 and repeat["echoed"] == 0.0
    assert quote["quote"] == 1.0 and crews["quote"] == 0.0
    assert mayor["caption"] == 1.0 and first["caption"] == 0.0
    assert mayor["said"] == 1.0 and first["said"] == 0.0
    assert first["digits"] == 1.0 and crews["digits"] == 0.0


def test_ranker_shipped_file_loads_and_is_the_default() -> None:
    ranker = load_ranker()
    assert ranker.fitted and set(ranker.features) <= set(FEATURES)
    assert all(math.isfinite(c) for c in ranker.coef_)
    record = json.loads(DEFAULT_RANKER.read_text(encoding="utf-8"))
    assert record["stories"] > 0 and record["trained_on"]
    writer = ExtractiveWriter()
    assert writer.params()["ranker"] == "default"
    # The learned score is a probability; the hand-set one is not.
    learned = [s for s, *_ in writer.score_sentences(Document(ARTICLE))]
    hand = [s for s, *_ in ExtractiveWriter(ranker=None).score_sentences(Document(ARTICLE))]
    assert all(0.0 < s < 1.0 for s in learned) and learned != hand
    assert max(hand) > 1.0


def test_ranker_bad_files_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no sentence ranker"):
        ExtractiveWriter(ranker=tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="not a sentence ranker"):
        ExtractiveWriter(ranker=bad)
    unfitted = tmp_path / "unfitted.json"
    unfitted.write_text(json.dumps({"features": ["pos", "shoe_size"]}), encoding="utf-8")
    with pytest.raises(InputError, match="unknown features \\['shoe_size'\\]"):
        ExtractiveWriter(ranker=unfitted)


def test_ranker_oracle_labels_pick_what_the_reference_says() -> None:
    texts = ["The bridge opened on Monday.", "Crowds cheered the mayor.", "It cost 12 million pounds to build."]
    assert oracle_labels(texts, ["The new bridge opened Monday and cost 12 million pounds."]) == [1, 0, 1]
    assert oracle_labels(texts, ["Nothing in common here at all."]) == [0, 0, 0]


def _stories_file(tmp_path: Path) -> Path:
    # In every story the reference repeats the LAST sentence, so a fitted ranker must learn to
    # prefer late sentences over the lead, against the hand-set position prior.
    lines = []
    for k in range(12):
        sentences = [f"Story {k} sentence {j} mentions topic{k}x{j} and detail{k}y{j} in plain words." for j in range(6)]
        lines.append(json.dumps({"id": f"s{k}", "article": " ".join(sentences), "highlights": [sentences[-1]]}))
    path = tmp_path / "refs.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_ranker_fit_learns_from_the_references(tmp_path: Path) -> None:
    from verisum.highlights.evaluate import read_references

    refs = read_references(_stories_file(tmp_path))
    stories = prepare(refs)
    assert len(stories) == 12 and all(s.labels[-1] == 1 for s in stories)
    ranker = fit(stories)
    writer = ExtractiveWriter(ranker=ranker)
    assert writer.params()["ranker"] == "in-process"
    for ref in refs:
        best = writer.propose(Document(ref.article), 1).candidates[0]
        assert best.text == ref.highlights[0]
    # The hand-set score leads with the first sentence instead.
    hand = ExtractiveWriter(ranker=None).propose(Document(refs[0].article), 1).candidates[0]
    assert hand.text != refs[0].highlights[0]


def test_ranker_training_step_writes_a_loadable_ranker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ranker.json"
    assert train_main(["--references", str(_stories_file(tmp_path)), "--out", str(out), "--repeats", "1", "--folds", "3"]) == 0
    printed = capsys.readouterr().out
    assert "12 stories" in printed and "learned ranker" in printed
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["trained_on"] == {"refs.jsonl": 12} and record["stories"] == 12
    assert record["rouge1"]["refs.jsonl"]["learned"] > record["rouge1"]["refs.jsonl"]["hand_set"]
    writer = ExtractiveWriter(ranker=out)
    assert writer.params()["ranker"] == str(out)


def test_ranker_reads_every_reference_form(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "article": "One. Two.", "highlights": ["One."]},
        {"id": "b", "article": "One. Two.", "reference": "Two."},
        {"id": "c", "article": "One. Two.", "writer_summaries": ["First writer.", "Second writer."]},
    ]) + "\n", encoding="utf-8")
    refs = read_stories(path)
    assert [r.id for r in refs] == ["mixed.jsonl:a", "mixed.jsonl:b", "mixed.jsonl:c"]
    assert [r.highlights for r in refs] == [("One.",), ("Two.",), ("First writer.",)]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "article": "One. Two.", "summary": 3}) + "\n", encoding="utf-8")
    with pytest.raises(BadRecord, match="no reference"):
        read_stories(bad)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "x", "article": "One. Two."\n', encoding="utf-8")
    with pytest.raises(BadRecord, match="line 1: not valid JSON"):
        read_stories(broken)


def test_ranker_repetition_is_looked_for_within_the_window() -> None:
    from verisum.highlights.ranker import ECHO_WINDOW

    lead = "Flood waters forced 2,000 people from their homes in the town of Riverton on Sunday."
    filler = [f"Item {k} mentions topic{k} and detail{k} in a plain sentence here." for k in range(ECHO_WINDOW + 5)]
    near = [lead, *filler[:3], lead.replace("Sunday", "Monday")]
    far = [lead, *filler, lead.replace("Sunday", "Monday")]
    _, near_feats = _features(" ".join(near))
    _, far_feats = _features(" ".join(far))
    assert near_feats[-1]["echo"] > 0.8 and near_feats[0]["echoed"] > 0.8
    # Beyond the window the restatement is not looked for (a long source stays linear).
    assert far_feats[-1]["echo"] < 0.3 and far_feats[0]["echoed"] < 0.3
