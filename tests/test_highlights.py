"""verisum.highlights: the extractive writer, the check loop, the round trip through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Sequence

import pytest

from verisum.checker import Checker
from verisum.document import Document
from verisum.errors import InputError
from verisum.highlights import Dropped, HighlightsResult, write_highlights
from verisum.highlights.extractive import ExtractiveWriter
from verisum.highlights.repair import DANGLING_WORDS, clean_sentence, dangling_start
from verisum.io import split_seed
from verisum.verdicts import Label

from support.judges import RejectWords

_TOKENS = re.compile(r"\w+")

NEWS = (
    "Storm Ellen closes the port of Dunmore\n"
    "The port of Dunmore closed on Tuesday after Storm Ellen brought winds of 120 km/h to the coast, "
    "the harbour authority said. Ferries to Calder Island were cancelled for the rest of the week. "
    "However, the port's fish market stayed open for local buyers. "
    "Harbour master Ruth Ogden said the storm was the worst since 1987. "
    "She said crews would inspect the piers on Thursday before any ship could dock. "
    "They have been working through the night. "
    "The town council, which met in an emergency session on Wednesday, approved 2 million euros for repairs "
    "to the sea wall, which was damaged in two places, and for a temporary shelter for fishing boats.\n"
)


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text.lower())


def _is_subsequence(small: Sequence[str], big: Sequence[str]) -> bool:
    it = iter(big)
    return all(tok in it for tok in small)


@pytest.fixture
def news() -> str:
    return NEWS


def test_highlights_extractive_bullets_are_article_sentences_or_trimmed(fake_checker: Checker, news: str) -> None:
    result = write_highlights(news, 3, checker=fake_checker)
    assert isinstance(result, HighlightsResult)
    assert 1 <= len(result.highlights) <= 3
    doc = Document(news)
    sentences = [_tokens(clean_sentence(s.text)) for s in doc.sentences]
    for bullet in result.highlights:
        toks = _tokens(bullet)
        # Every bullet is an article sentence, or that sentence with words dropped (a name may
        # stand in for a leading pronoun: compare what follows the first word).
        assert any(_is_subsequence(toks, s) or _is_subsequence(toks[1:], s) for s in sentences), bullet


def test_highlights_extractive_no_dangling_starts(fake_checker: Checker, news: str) -> None:
    result = write_highlights(news, 6, checker=fake_checker)
    for bullet in result.highlights:
        first = _tokens(bullet)[0]
        assert first not in DANGLING_WORDS, bullet
        assert dangling_start(bullet) is None, bullet
    # "They have been working ..." has no clear referent: never printed.
    assert not any(b.startswith("They") for b in result.highlights)


def test_highlights_extractive_connective_dropped(fake_checker: Checker) -> None:
    text = (
        "The museum reopened on Friday after a two-year renovation costing 40 million pounds. "
        "However, the east wing will stay closed until the spring because of a leaking roof.\n"
    )
    result = write_highlights(text, 2, checker=fake_checker)
    assert "The east wing will stay closed until the spring because of a leaking roof." in result.highlights


def test_highlights_every_printed_bullet_passed_the_checker(news: str) -> None:
    # The checker rejects the writer's second candidate (by a word only it has), whichever it is.
    second = ExtractiveWriter().propose(Document(news), 3).candidates[1].text
    others = {t.lower() for c in ExtractiveWriter().propose(Document(news), 3).candidates if c.text != second
              for t in _tokens(c.text)}
    word = next(t for t in _tokens(second) if t not in others and len(t) > 3)
    checker = Checker(RejectWords([word]), top_k=2, verbatim_shortcut=False)
    result = write_highlights(news, 3, checker=checker)
    assert result.check is not None and result.check.ok
    assert all(sv.label is Label.SUPPORTED for sv in result.check.sentences)
    assert not any(word in _tokens(b) for b in result.highlights)
    rejected = [d for d in result.dropped if d.text == second]
    assert rejected and rejected[0].label is Label.UNSUPPORTED
    assert rejected[0].reason.startswith("checker:") and rejected[0].score is not None
    # The rejected candidate was replaced by the next one.
    assert len(result.highlights) == 3
    # check is exactly the printed bullets as "- " lines.
    assert result.check.summary.text == result.text


def test_highlights_nothing_passes_gives_empty_result(news: str) -> None:
    checker = Checker(RejectWords(["the", "a", "of", "to", "on", "in"]), top_k=1, verbatim_shortcut=False)
    result = write_highlights(news, 3, checker=checker)
    assert result.highlights == () and result.check is None
    assert result.dropped and all(isinstance(d, Dropped) for d in result.dropped)
    from verisum.schema import HighlightsResultModel

    body = json.loads(HighlightsResultModel.from_result(result).model_dump_json())
    assert body["highlights"] == [] and body["check"] is None
    assert all(d["reason"] for d in body["dropped"])


def test_highlights_shortens_only_when_short_form_passes(news: str) -> None:
    writer = {"shorten_above": 10}
    # The trailing "and for a temporary shelter ..." material is what the judge rejects in the
    # short form; the full sentence passes, so the full sentence is printed.
    passing = write_highlights(news, 6, checker=Checker(RejectWords(["nothing-at-all"]), top_k=2),
                               writer_params=writer)
    council = [b for b in passing.highlights if "council" in b.lower()]
    assert council and len(council[0].split()) < 30  # shortened: the relative clauses went
    rejecting = write_highlights(news, 6, checker=Checker(RejectWords(["nothing-at-all"]), top_k=2),
                                 writer_params={"shorten_above": 1000})
    assert any(len(b.split()) >= 30 for b in rejecting.highlights if "council" in b.lower())


def test_highlights_pronoun_becomes_name(fake_checker: Checker, news: str) -> None:
    cands = ExtractiveWriter().propose(Document(news), 6).candidates
    texts = [c.text for c in cands]
    assert "Ruth Ogden said crews would inspect the piers on Thursday before any ship could dock." in texts
    dropped = ExtractiveWriter().propose(Document(news), 6).dropped
    assert any(d.text.startswith("They") and "lean" in d.reason for d in dropped)


@pytest.mark.parametrize("cased", [True, False])
def test_highlights_pronoun_is_never_given_to_the_wrong_namesake(cased: bool) -> None:
    from verisum.highlights.repair import find_referent

    # Two Smiths, a son and his father: "Smith" alone does not say which one "He" is.
    text = (
        "Paramedics were called to the block of flats near the city centre on Sunday evening after "
        "neighbours heard a loud noise. "
        "Phil Smith, 25, scaled a fence to get into his flat but fell and hit his head. "
        "His father, Nick Smith, 50, said he was a lovely lad. "
        "Mr Smith was taken to hospital by ambulance that night. "
        "He was placed in a medically induced coma at Hull Royal Infirmary.\n"
    )
    if not cased:  # as CNN/DailyMail publish it: lower case but for each sentence's first letter
        text = ". ".join(part[:1] + part[1:].lower() for part in text.split(". "))
    doc = Document(text)
    assert find_referent(doc, doc.sentences[-1]) is None
    # With the full name in the sentence before, it is clear.
    clear = Document(text.replace("Mr Smith was" if cased else "Mr smith was", "Phil Smith was" if cased else "Phil smith was"))
    assert find_referent(clear, clear.sentences[-1]) == "Phil Smith"


def test_highlights_lowercased_article(fake_checker: Checker) -> None:
    text = (
        "(cnn) a mother has been arrested after a dispute with her neighbors over a parking space in west linn, oregon. "
        "Eva chapin, 34, was booked into jail on tuesday after she left offensive notes on the door of the family home. "
        "She is due back in court on may 7. "
        "Police said the notes were reported by the family on monday morning.\n"
    )
    result = write_highlights(text, 3, checker=fake_checker)
    assert result.highlights
    assert not any(b.lower().startswith(("(cnn)", "she ")) for b in result.highlights)
    assert any(b.startswith("A mother has been arrested") for b in result.highlights)
    # Names the article introduces get their capitals back; "(cnn)" datelines are gone.
    chapin = [b for b in result.highlights if "chapin" in b.lower()]
    assert chapin and all("Eva Chapin" in b for b in chapin)


def test_highlights_bad_n_and_empty_article(fake_checker: Checker) -> None:
    from verisum.errors import EmptyInput, InputError

    with pytest.raises(InputError):
        write_highlights("Some text here.", 0, checker=fake_checker)
    with pytest.raises(EmptyInput):
        write_highlights("   \n", 3, checker=fake_checker)
    with pytest.raises(InputError, match="unknown writer"):
        write_highlights("A sentence of the article is here.", 3, "nope", fake_checker)


def test_highlights_many_one_item_per_record_and_a_failed_backend_costs_one_record(fake_checker: Checker) -> None:
    from verisum.errors import BackendTimeout, BadRecord
    from verisum.highlights import write_highlights_many
    from verisum.records import Record, RecordError

    class FlakyWriter(ExtractiveWriter):
        """Times out on the article that mentions Calder, like an endpoint that hangs on one request."""

        def propose(self, article: Document, n: int) -> Any:
            if "Calder" in article.text:
                raise BackendTimeout("the writer timed out after 60 s")
            return super().propose(article, n)

    rejected = RecordError("r2", 2, BadRecord("line 2: not valid JSON"))
    records = [Record("r1", NEWS, ()), rejected, Record("r3", NEWS.replace("Calder", "Kell"), ()),
               Record("r4", NEWS, ())]
    seen: list[int] = []
    out = list(write_highlights_many(records, 2, FlakyWriter(), fake_checker,
                                     progress=lambda done, total: seen.append(done)))
    assert len(out) == 4 and seen == [1, 2, 3, 4]
    assert out[1] is rejected
    assert isinstance(out[0], RecordError) and out[0].id == "r1" and out[0].error.code == "backend_timeout"
    assert isinstance(out[3], RecordError) and out[3].id == "r4"
    assert isinstance(out[2], HighlightsResult) and out[2].id == "r3" and len(out[2].highlights) == 2


def test_highlights_seed_with_embedded_checker(embedded_checker: Checker, seed_path: Path) -> None:
    article = split_seed(seed_path.read_text(encoding="utf-8")).source
    result = write_highlights(article, 3, checker=embedded_checker)
    assert result.highlights and result.check is not None and result.check.ok
    for b in result.highlights:
        assert dangling_start(b) is None
        assert "insulation" not in b and "G7" not in b


# -- CLI --------------------------------------------------------------------------------
def test_highlights_cli_round_trip_fake(cli, fake_backend: str, tmp_path: Path, news: str) -> None:
    a = tmp_path / "a.txt"
    a.write_text(news, encoding="utf-8")
    res = cli("highlights", a, "--backend", fake_backend)
    assert res.exit_code == 0, res
    assert res.stdout and all(line.startswith("- ") for line in res.stdout.splitlines())
    a.write_text(news + res.stdout, encoding="utf-8")
    checked = cli("check", a, "--backend", fake_backend)
    assert checked.exit_code == 0, checked


def test_highlights_cli_round_trip_embedded(cli, embedded_checker: Checker, example_article: Path, tmp_path: Path) -> None:
    article = split_seed(example_article.read_text(encoding="utf-8")).source + "\n"
    a = tmp_path / "a.txt"
    a.write_text(article, encoding="utf-8")
    res = cli("highlights", a)
    assert res.exit_code == 0, res
    a.write_text(article + res.stdout, encoding="utf-8")
    checked = cli("check", a)
    assert checked.exit_code == 0, checked


def test_highlights_cli_json(cli, fake_backend: str, tmp_path: Path, news: str) -> None:
    a = tmp_path / "a.txt"
    a.write_text(news, encoding="utf-8")
    res = cli("highlights", a, "-n", "2", "--format", "json", "--backend", fake_backend)
    assert res.exit_code == 0, res
    body = json.loads(res.stdout)
    assert body["schema_version"] == 1 and len(body["highlights"]) == 2
    summary = body["check"]["summary"] if isinstance(body["check"].get("summary"), str) else None
    for sent in body["check"]["sentences"]:
        assert sent["label"] == "supported"
        for claim in sent["claims"]:
            assert claim["evidence"]
            for ev in claim["evidence"]:
                assert news[ev["start"] : ev["end"]] == ev["text"]
    if summary is not None:
        assert summary == "\n".join(f"- {h}" for h in body["highlights"])


def test_highlights_cli_jsonl_one_line_per_input(cli, fake_backend: str, tmp_path: Path, news: str) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "a", "doc": news}) + "\n" + "{not json\n" + json.dumps({"id": "c", "article": news})
        + "\n\n" + json.dumps({"id": "e", "doc": 5}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    res = cli("highlights", "--jsonl", src, "-o", out, "--backend", fake_backend)
    assert res.exit_code == 2, res
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 5  # one per input line, the bad ones included
    assert lines[0]["id"] == "a" and lines[0]["highlights"]
    assert lines[1]["ok"] is False and lines[1]["line"] == 2 and lines[1]["code"] == "bad_record"
    assert lines[2]["id"] == "c" and lines[2]["highlights"]
    assert lines[3]["line"] == 4 and lines[3]["code"] == "empty_input"
    assert lines[4]["id"] == "e" and lines[4]["error"] == 'line 5: "doc" must be a string, not a number'
    # and from standard input
    res = cli("highlights", "--jsonl", "-", "--backend", fake_backend, input=src.read_bytes())
    assert [json.loads(x).get("id") for x in res.stdout.splitlines()] == ["a", None, "c", None, "e"]


def test_highlights_cli_llm_needs_url(cli, tmp_path: Path, news: str) -> None:
    a = tmp_path / "a.txt"
    a.write_text(news, encoding="utf-8")
    res = cli("highlights", a, "--writer", "llm", "--model", "m")
    assert res.exit_code == 2 and "--base-url" in res.stderr


@pytest.mark.parametrize(
    ("text", "dangling"),
    [
        ("He said the port would reopen.", "He"),
        ("However, the port stayed shut.", "However"),
        ("But the ferries were cancelled.", "But"),
        ("And the council met.", "And"),
        ("They have been working all night.", "They"),
        ("This is the worst storm since 1987.", "This"),
        ("In 2013, it did not make the top 1,000.", "it"),
        ("When she picked it up, she shouted.", "she"),
        ("This year was the hottest on record.", None),
        ("These photos show the damage.", None),
        ("As his side won 30-20, Sam Tomkins made his debut.", None),
        ("Ruth Ogden said the storm was the worst since 1987.", None),
        ("On Tuesday, the port closed.", None),
        ("Another said: 'the water came up to the windows.'", "Another said"),
        ("Another ferry was cancelled on Wednesday.", None),
    ],
)
def test_highlights_repair_dangling_start(text: str, dangling: str | None) -> None:
    assert dangling_start(text) == dangling


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("'I'm really excited about the rest of the year now.", "I'm"),
        ("We have never seen water this high.", "We"),
        ("The port will reopen when my crews have checked the piers.", "my"),
        ("'We have never seen water this high,' said Ruth Ogden.", None),
        ("Ruth Ogden told reporters that her crews saw nothing like it.", None),
        ("The US government closed the port.", None),
    ],
)
def test_highlights_repair_unattributed_speech(text: str, word: str | None) -> None:
    from verisum.highlights.repair import unattributed_speech

    assert unattributed_speech(text) == word


def test_highlights_speech_without_its_speaker_is_not_offered(fake_checker: Checker) -> None:
    article = (
        "Storm Ellen closed the port of Dunmore on Tuesday, the harbour authority said. "
        "'Nobody here has seen water this high in my forty years of fishing.' "
        "Ferries to Calder Island were cancelled for the rest of the week.\n"
    )
    result = write_highlights(article, 3, checker=fake_checker)
    assert result.highlights and not any("Nobody" in b for b in result.highlights)
    assert any("without saying who is speaking" in d.reason for d in result.dropped)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("(cnn) two cnn heroes are among the survivors.", "Two cnn heroes are among the survivors."),
        ("London, England (CNN) -- The prime minister said no.", "The prime minister said no."),
        ("Fraud: starrs, 50, was a manager who admitted defrauding the company.",
         "Starrs, 50, was a manager who admitted defrauding the company."),
        ("General motors has unveiled the car (pictured).", "General motors has unveiled the car."),
        ('"we are suffering with rain, strong wind.', "We are suffering with rain, strong wind."),
    ],
)
def test_highlights_repair_clean_sentence(raw: str, clean: str) -> None:
    assert clean_sentence(raw) == clean


def test_highlights_repair_shorter_forms_drop_subordinate_material() -> None:
    from verisum.highlights.repair import shorter_forms

    forms = shorter_forms(
        "Anuradha Koirala, who rescues victims of sex trafficking, has a rehabilitation center in Kathmandu "
        "that is home to 425 young women, according to the charity."
    )
    assert "Anuradha Koirala has a rehabilitation center in Kathmandu that is home to 425 young women, "\
           "according to the charity." in forms
    assert any(f.endswith("home to 425 young women.") for f in forms)
    assert all(len(f.split()) >= 6 for f in forms)


def test_highlights_repair_shorter_forms_keep_coordinate_main_clauses() -> None:
    from verisum.highlights.repair import shorter_forms

    # What follows ", but" / ", and" is a main clause (here the news itself), not subordinate.
    text = ("Rose arrived at Augusta having missed the cut in three of his five events, "
            "but left with a 14-under-par total, and he now leads the rankings.")
    assert shorter_forms(text) == []


class ContextChecker(Checker):
    """Rejects a bullet with ``word`` only in a summary of 2-3 bullets: the candidate batch
    (n + 1 = 4 lines or more) passes it, the final check of the 3 kept bullets does not, as a
    summary-level feature can."""

    def __init__(self, word: str, **kw: Any) -> None:
        super().__init__(RejectWords(["nothing-at-all"]), top_k=2, **kw)
        self.word = word

    def check(self, source: Any, summary: Any, *, id: str | None = None):  # type: ignore[override]
        import dataclasses

        result = super().check(source, summary, id=id)
        lines = [x for x in result.summary.text.split("\n") if x.strip()]
        if not 2 <= len(lines) <= 3 or not any(self.word in x for x in lines):
            return result
        sentences = tuple(
            dataclasses.replace(sv, label=Label.UNSUPPORTED, score=0.1) if self.word in sv.sentence.text else sv
            for sv in result.sentences
        )
        return dataclasses.replace(result, sentences=sentences, label=Label.UNSUPPORTED, score=0.1)


def test_highlights_final_check_together_drops_what_fails_beside_the_others(news: str) -> None:
    plain = write_highlights(news, 3, checker=Checker(RejectWords(["nothing-at-all"]), top_k=2))
    others = " ".join(plain.highlights[:1] + plain.highlights[2:])
    word = next(w for w in plain.highlights[1].split() if len(w) > 3 and w not in others)
    result = write_highlights(news, 3, checker=ContextChecker(word))
    assert result.check is not None and result.check.ok
    assert all(word not in h for h in result.highlights)
    assert any(word in d.text and "together" in d.reason for d in result.dropped)
    assert len(result.highlights) == 2


def test_highlights_printed_in_article_order_unless_rank_is_asked(fake_checker: Checker, news: str) -> None:
    by_rank = write_highlights(news, 3, checker=fake_checker, order="rank")
    by_article = write_highlights(news, 3, checker=fake_checker)
    assert sorted(by_rank.highlights) == sorted(by_article.highlights)
    start = {}
    for c in ExtractiveWriter().propose(Document(news), 3).candidates:
        for form in (c.text, *c.shorter):
            start.setdefault(form, c.source[0])
    positions = [start[b] for b in by_article.highlights]
    assert positions == sorted(positions)
    # The shipped ranker does not lead with the article's first sentence here, so the two differ.
    assert by_rank.highlights != by_article.highlights
    assert by_article.check is not None and by_article.check.summary.text == by_article.text
    with pytest.raises(InputError, match="order must be"):
        write_highlights(news, 3, checker=fake_checker, order="alphabetical")  # type: ignore[arg-type]
