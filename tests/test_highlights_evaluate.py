"""eval-highlights: ROUGE against references, Lead-3, published systems, predictions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verisum.checker import Checker
from verisum.errors import BadRecord
from verisum.highlights.evaluate import (
    evaluate_highlights,
    format_table,
    lead_sentences,
    read_references,
    read_systems,
    rouge_scores,
)

ARTICLE_A = (
    "The port of Dunmore closed on Tuesday after a storm brought strong winds to the coast. "
    "Ferries to Calder Island were cancelled for the rest of the week. "
    "Harbour master Ruth Ogden said the storm was the worst since 1987. "
    "The town council approved 2 million euros for repairs to the sea wall.\n"
)
ARTICLE_B = (
    "The museum in Lenford reopened on Friday after a renovation that took two years. "
    "The work cost 40 million pounds, most of it paid by a national lottery fund. "
    "The east wing will stay closed until the spring because of a leaking roof. "
    "Visitors queued for an hour to see the restored dinosaur hall.\n"
)


@pytest.fixture
def refs_path(tmp_path: Path) -> Path:
    p = tmp_path / "refs.jsonl"
    p.write_text(
        json.dumps({"id": "a", "article": ARTICLE_A,
                    "highlights": ["Port of Dunmore closed after a storm.", "Ferries to Calder Island cancelled."]}) + "\n"
        + json.dumps({"id": "b", "article": ARTICLE_B, "highlights": ["Lenford museum reopened after two years."],
                      "article_tokenized": ARTICLE_B.replace(",", " ,"),
                      "highlights_tokenized": ["Lenford museum reopened after two years ."]}) + "\n",
        encoding="utf-8",
    )
    return p


@pytest.fixture
def systems_path(tmp_path: Path) -> Path:
    p = tmp_path / "systems.jsonl"
    rows = [
        {"id": "a", "system": "ext/perfect", "summary": ["Port of Dunmore closed after a storm.",
                                                         "Ferries to Calder Island cancelled."]},
        {"id": "b", "system": "ext/perfect", "summary": "Lenford museum reopened after two years."},
        {"id": "zzz", "system": "ext/perfect", "summary": "A story not in the references."},
        {"id": "a", "system": "abs/other", "summary": "Something else entirely happened.",
         "summary_sentences": ["Something else entirely happened."]},
    ]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return p


def test_highlights_evaluate_rouge_is_one_for_identical_text() -> None:
    r1, r2, rl = rouge_scores(["The cat sat on the mat."], ["The cat sat on the mat."])
    assert r1 == pytest.approx(1.0) and r2 == pytest.approx(1.0) and rl == pytest.approx(1.0)
    r1, _, _ = rouge_scores(["Dogs run."], ["The cat sat on the mat."])
    assert r1 == 0.0
    # Stemming is on: "closed" matches "closing".
    assert rouge_scores(["closing"], ["closed"])[0] == pytest.approx(1.0)


def test_highlights_evaluate_reads_references_and_systems(refs_path: Path, systems_path: Path) -> None:
    refs = read_references(refs_path)
    assert [r.id for r in refs] == ["a", "b"]
    assert refs[1].rouge_reference == ("Lenford museum reopened after two years .",)
    assert refs[0].rouge_reference == refs[0].highlights
    systems = read_systems(systems_path, [r.id for r in refs])
    assert set(systems) == {"ext/perfect", "abs/other"}
    assert set(systems["ext/perfect"]) == {"a", "b"}  # "zzz" is filtered out
    assert lead_sentences(ARTICLE_A, 2) == (
        "The port of Dunmore closed on Tuesday after a storm brought strong winds to the coast.",
        "Ferries to Calder Island were cancelled for the rest of the week.",
    )


def test_highlights_evaluate_bad_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"id": "a", "article": "Text here."}\n', encoding="utf-8")
    with pytest.raises(BadRecord, match="highlights"):
        read_references(p)


def test_highlights_evaluate_rows(fake_checker: Checker, refs_path: Path, systems_path: Path) -> None:
    refs = read_references(refs_path)
    report = evaluate_highlights(refs, checker=fake_checker, n=2,
                                 systems=read_systems(systems_path, [r.id for r in refs]))
    rows = {r.system: r for r in report.rows}
    assert list(rows) == ["verisum", "lead-3", "abs/other", "ext/perfect"]
    assert rows["ext/perfect"].rouge1 == pytest.approx(100.0)
    assert rows["abs/other"].n == 1 and rows["abs/other"].rouge1 < 20
    assert rows["verisum"].pass_share == 100.0 and rows["verisum"].seconds_per_article is not None
    assert rows["verisum"].bullets == sum(len(h) for _, h in report.predictions)
    assert rows["lead-3"].n == 2 and rows["lead-3"].passed is not None
    table = format_table(report)
    assert table.splitlines()[0].startswith("| system |") and "ext/perfect" in table


def test_highlights_evaluate_cli(cli, fake_backend: str, refs_path: Path, systems_path: Path, tmp_path: Path) -> None:
    preds = tmp_path / "preds.jsonl"
    res = cli("eval-highlights", refs_path, "--systems", systems_path, "--predictions", preds,
              "--backend", fake_backend, "--format", "json")
    assert res.exit_code == 0, res
    body = json.loads(res.stdout)
    assert [r["system"] for r in body["rows"]][:2] == ["verisum", "lead-3"]
    lines = [json.loads(x) for x in preds.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == ["a", "b"] and all(isinstance(x["highlights"], list) for x in lines)


def test_highlights_evaluate_cnndm_dev_sample(shared_dir: Path, fake_checker: Checker) -> None:
    path = shared_dir / "data" / "news" / "cnndm_dev.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    refs = read_references(path)[:5]
    assert all(r.highlights_tokenized for r in refs)
    report = evaluate_highlights(refs, checker=fake_checker, n=3, check_systems=False)
    verisum, lead = report.rows[0], report.rows[1]
    assert verisum.n == lead.n == 5
    assert 20 < verisum.rouge1 < 70 and 20 < lead.rouge1 < 70
