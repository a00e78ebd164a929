"""Inputs that used to crash verisum (issue 11, items 1, 2, 4, 5, 6, 9): each gets a clear error
of its own record, and a batch keeps every other record."""

from __future__ import annotations

import json

import pytest

import verisum
from verisum.checker import Checker
from verisum.records import RecordError
from verisum.document import Document
from verisum.errors import BadEncoding, EmptyInput, InternalError
from verisum.records import iter_jsonl, loads_json

SOURCE = "The council approved the budget on Monday. The mayor said the library opens in May."
GOOD = {"id": "good", "doc": SOURCE, "summary": "The council approved the budget."}


@pytest.mark.parametrize("summary", [";", ",", "- ;", "!", "?", ":", "-"])
def test_hardening_a_summary_without_words_is_empty_input(fake_checker, summary):
    with pytest.raises(EmptyInput, match="no words"):
        fake_checker.check(SOURCE, summary)


@pytest.mark.parametrize("summary", ["which", "- It was.", "and so on"])
def test_hardening_a_summary_without_content_words_states_nothing(fake_checker, summary):
    with pytest.raises(EmptyInput, match="states nothing"):
        fake_checker.check(SOURCE, summary)


def test_hardening_a_wordless_sentence_among_others_is_left_out(fake_checker):
    result = fake_checker.check(SOURCE, "- The council approved the budget.\n- ;")
    assert [s.sentence.text for s in result.sentences] == ["The council approved the budget."]


def test_hardening_a_lone_surrogate_is_refused_where_text_enters():
    with pytest.raises(BadEncoding, match="U\\+D800 at offset 2"):
        Document("a \ud800 b.")
    with pytest.raises(BadEncoding):
        verisum.check("a \ud800 b.", "a b.", judge="embedded")


def test_hardening_json_reader_turns_every_failure_into_a_decode_error():
    for bad in ("[" * 3000, b"\xe9t\xe9", '{"doc": "\\ud800"}'):
        with pytest.raises(json.JSONDecodeError):
            loads_json(bad)
    assert loads_json('{"doc": "\\ud83d\\ude00"}') == {"doc": "\U0001F600"}  # a proper pair is fine


def test_hardening_jsonl_reader_goes_on_past_bad_lines(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n" + b"[" * 3000 + b"\n"
                     + b'{"doc": "caf\xe9"}\n' + json.dumps(GOOD).encode() + b"\n")
    items = list(iter_jsonl(path))
    assert [n for n, _ in items] == [1, 2, 3, 4]
    assert items[0][1] == GOOD and items[3][1] == GOOD
    assert "nested too deeply" in items[1][1].msg and "not valid UTF-8" in items[2][1].msg


def test_hardening_check_jsonl_keeps_every_record(cli, tmp_path, fake_backend):
    path = tmp_path / "in.jsonl"
    lines = [json.dumps(GOOD), "[" * 3000, json.dumps({"id": "s", "doc": SOURCE, "summary": ";"}),
             json.dumps({"id": "u", "doc": "a \ud800 b.", "summary": "a b."}), json.dumps(GOOD)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = cli("check", "--jsonl", path, "--backend", fake_backend)
    out = [json.loads(x) for x in res.stdout.splitlines()]
    assert len(out) == 5 and res.exit_code == 2 and res.exception is None
    assert [o.get("ok", True) for o in out] == [True, False, False, False, True]
    assert [o.get("code") for o in out[1:4]] == ["bad_record", "empty_input", "bad_record"]


def test_hardening_a_bug_costs_only_its_own_record(fake_judge, monkeypatch):
    checker = Checker(fake_judge)
    real = checker._prepare

    def flaky(rid, source, summary):
        if rid == "boom":
            raise TypeError("a bug")
        return real(rid, source, summary)

    monkeypatch.setattr(checker, "_prepare", flaky)
    recs = [dict(GOOD, id="a"), dict(GOOD, id="boom"), dict(GOOD, id="b")]
    out = list(checker.check_many(recs))
    assert [getattr(o, "id", None) for o in out] == ["a", "boom", "b"]
    assert isinstance(out[1], RecordError) and isinstance(out[1].error, InternalError)
    assert out[1].error.exit_code == 3 and out[1].error.http_status == 500


def test_hardening_an_internal_error_exits_3_not_a_verdict(cli, tmp_path, monkeypatch):
    import verisum.checker

    def broken(self, *a, **k):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(verisum.checker.Checker, "check", broken)
    path = tmp_path / "a.txt"
    path.write_text(SOURCE + "\n- The council approved the budget.\n", encoding="utf-8")
    res = cli("check", path)
    assert res.exit_code == 3
    assert "internal error (ZeroDivisionError: oops)" in res.stderr and "Traceback" not in res.stderr


def test_hardening_an_endless_sentence_is_cut_into_bounded_pieces_and_the_result_says_so(fake_checker):
    from verisum.document import MAX_SENTENCE_CHARS

    words = "council budget river stone market " * 4000  # ~140,000 characters, no full stop
    doc = Document(words + "end.")
    assert doc.long_sentences == 1
    assert max(len(s) for s in doc.sentences) <= MAX_SENTENCE_CHARS
    assert doc.sentences[0].start == 0 and doc.sentences[-1].end == len(doc.text)
    for a, b in zip(doc.sentences, doc.sentences[1:]):
        assert doc.text[a.end : b.start].strip() == ""  # nothing lost between pieces
    result = fake_checker.check(words, "The council approved the budget.")
    assert result.meta["long_sentences_cut"] == {"source": 1, "summary": 0}
    assert "long_sentences_cut" not in fake_checker.check(SOURCE, "The council approved it.").meta


def test_hardening_terminal_quotes_of_long_evidence_are_shortened_with_their_offsets(fake_checker):
    import io

    from verisum.render.terminal import QUOTE_CHARS, render_check

    words = "council budget river stone market " * 4000
    result = fake_checker.check(words, "The council approved the budget.")
    out = io.StringIO()
    render_check(result, out, width=100_000)
    evidence_lines = [ln for ln in out.getvalue().splitlines() if "evidence source[" in ln]
    assert evidence_lines and all(len(ln) < QUOTE_CHARS + 80 for ln in evidence_lines)
    assert all("…" in ln for ln in evidence_lines)


@pytest.mark.parametrize(
    "text, dangling",
    [
        ("US troops left Kabul on Monday.", None),  # an acronym, not the pronoun "us"
        ("If Holmes does not appear, his lawyers will speak.", None),  # the referent is right there
        ("If he does not appear, the case will close.", "he"),
        ("When asked, he said no.", "he"),
        ("It rained all week.", "It"),
    ],
)
def test_hardening_highlights_pronoun_reasons_are_not_misread(text, dangling):
    from verisum.highlights.repair import dangling_start

    assert dangling_start(text) == dangling
