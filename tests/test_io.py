"""Reading inputs: bytes -> text, the seed form, JSONL records, limits. Real bad bytes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verisum.records import Record, RecordError
from verisum.errors import BadEncoding, BadRecord, EmptyInput, InputError, InputTooLarge, NotText
from verisum.io import MAX_INPUT_BYTES, decode_text, read_bytes, read_text, split_seed
from verisum.records import iter_lines, parse_record, read_records

ARTICLE = "A title\nThe body says the sky is blue. It rained.\nMore body.\n"


# -- bytes -> text ---------------------------------------------------------------------------
def test_io_decode_drops_bom_and_keeps_crlf() -> None:
    assert decode_text(b"\xef\xbb\xbfHello\r\nworld\r\n") == "Hello\r\nworld\r\n"
    assert decode_text("😀 x".encode()) == "😀 x"


def test_io_latin1_bytes_give_bad_encoding_with_offset_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Café au lait.\n- Café.\n".encode("latin-1"))
    with pytest.raises(BadEncoding) as err:
        read_text(path)
    assert str(err.value) == (
        f"{path} is not valid UTF-8 (byte 0xe9 at offset 3); "
        f"convert it first, e.g. iconv -f latin1 -t utf-8 {path} > fixed.txt"
    )
    assert isinstance(err.value, ValueError) and err.value.exit_code == 2


def test_io_binary_bytes_give_not_text(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(NotText, match=r"is binary, not text \(NUL byte at offset 8\)"):
        read_text(path)


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t", b"\xef\xbb\xbf"])
def test_io_empty_input_is_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(data)
    with pytest.raises(EmptyInput, match=r"^the article \(.*empty.txt\) is empty$"):
        read_text(path, what="article")


def test_io_20mb_source_is_too_large_and_names_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"All work and no play. " * (20_000_000 // 22 + 1))
    with pytest.raises(InputTooLarge) as err:
        read_bytes(path)
    assert str(err.value) == (
        f"{path} is larger than the limit of 10,000,000 bytes (10 MB); split it, or raise the limit with --max-bytes"
    )
    assert err.value.http_status == 413
    assert len(read_bytes(path, max_bytes=25_000_000)) > 20_000_000


def test_io_missing_file_and_directory_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_bytes(tmp_path / "nope.txt")
    with pytest.raises(InputError, match="is a directory"):
        read_bytes(tmp_path)


def test_io_dash_reads_the_given_stdin() -> None:
    assert read_text("-", stdin=io.BytesIO(b"\xef\xbb\xbfhi\r\n")) == "hi\r\n"
    with pytest.raises(InputTooLarge, match="standard input is larger than the limit of 5 bytes"):
        read_bytes("-", max_bytes=5, stdin=io.BytesIO(b"123456"))


# -- the seed form ---------------------------------------------------------------------------
@pytest.mark.parametrize("marker", ["- ", "* ", "• "])
def test_io_split_seed_takes_trailing_bullets_as_summary(marker: str) -> None:
    text = ARTICLE + f"{marker}The sky is blue.\n\n{marker}It rained.\n"
    seed = split_seed(text)
    assert seed.title == "A title"
    assert seed.source == ARTICLE.rstrip("\n")
    assert seed.summary == f"{marker}The sky is blue.\n\n{marker}It rained."
    assert text[seed.summary_start : seed.summary_start + len(seed.summary)] == seed.summary
    assert text.startswith(seed.source)


def test_io_split_seed_keeps_crlf_in_both_slices() -> None:
    text = "Title\r\nBody one. Body two.\r\n- Body one.\r\n- Body two.\r\n"
    seed = split_seed(text)
    assert seed.source == "Title\r\nBody one. Body two."
    assert seed.summary == "- Body one.\r\n- Body two."
    assert seed.summary_start == text.index("- Body one.")


def test_io_split_seed_bullets_inside_the_body_stay_in_the_source() -> None:
    text = "Title\n- a listed point in the article\nThe body goes on.\n- The summary.\n"
    seed = split_seed(text)
    assert seed.source == "Title\n- a listed point in the article\nThe body goes on."
    assert seed.summary == "- The summary."


def test_io_split_seed_without_summary_is_an_error() -> None:
    with pytest.raises(EmptyInput, match="no summary found"):
        split_seed("Just an article.\nNo bullets here.\n")
    assert split_seed("Just an article.", require_summary=False).summary == ""


def test_io_split_seed_with_only_bullets_has_no_article() -> None:
    with pytest.raises(EmptyInput, match="the article is empty"):
        split_seed("- one\n- two\n")


def test_io_10000_bullets_are_too_many_and_the_limit_is_a_setting() -> None:
    text = "Article body.\n" + "".join(f"- bullet {i}\n" for i in range(10_000))
    with pytest.raises(InputTooLarge) as err:
        split_seed(text)
    assert str(err.value) == "the summary has 10,000 bullet lines; the limit is 200 (raise it with --max-bullets)"
    assert split_seed(text, max_bullets=10_000).summary.count("\n- ") == 9_999


@given(
    title=st.text(alphabet="abc XY", min_size=1, max_size=10).filter(lambda t: t.strip()),
    body=st.lists(st.text(alphabet="abc .é😀\r", min_size=1, max_size=20).filter(lambda t: t.strip()), min_size=1, max_size=4),
    bullets=st.lists(st.text(alphabet="xyz .😀", min_size=1, max_size=15).filter(lambda t: t.strip()), min_size=1, max_size=4),
    eol=st.sampled_from(["\n", "\r\n"]),
)
@settings(max_examples=150, deadline=None)
def test_io_split_seed_slices_are_exact(title: str, body: list[str], bullets: list[str], eol: str) -> None:
    body = [b.replace("\r", "") or "x" for b in body]
    body = [b if b.strip() else "x" for b in body]
    text = eol.join([title, *body, *(f"- {b}" for b in bullets)]) + eol
    seed = split_seed(text)
    assert text[: len(seed.source)] == seed.source
    assert text[seed.summary_start : seed.summary_start + len(seed.summary)] == seed.summary
    assert seed.summary.startswith("- ") and seed.summary.count("- ") >= len(bullets)


# -- JSONL records ---------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["doc", "article", "source"])
def test_io_parse_record_accepts_doc_aliases(key: str) -> None:
    rec = parse_record(json.dumps({"id": 7, key: "The sky is blue.", "summary": ["Blue sky.", "Rain."]}), 3)
    assert rec == Record(id="7", doc="The sky is blue.", summary=["Blue sky.", "Rain."], line=3)


@pytest.mark.parametrize(
    ("line", "error", "message"),
    [
        ('{"id": 1, "doc": "x", "summary": "y"', BadRecord,
         "line 4: not valid JSON (Expecting ',' delimiter at column 37)"),
        ('[1, 2]', BadRecord, "line 4: expected a JSON object, got list"),
        ('{"id": 1, "summary": "y"}', BadRecord, 'line 4: missing field "doc" (or "article" / "source")'),
        ('{"id": 1, "doc": "x"}', BadRecord, 'line 4: missing field "summary"'),
        ('{"id": 1, "doc": 5, "summary": "y"}', BadRecord, 'line 4: "doc" must be a string, not a number'),
        ('{"id": 1, "doc": "x", "summary": {"a": 1}}', BadRecord,
         'line 4: "summary" must be a string or a list of strings, not an object'),
        ('{"id": 1, "doc": "x", "summary": ["a", 2]}', BadRecord,
         'line 4: "summary" must be a string or a list of strings'),
        ('{"id": 1, "doc": "  ", "summary": "y"}', EmptyInput, 'line 4: "doc" is empty'),
        ('{"id": 1, "doc": "x", "summary": []}', EmptyInput, 'line 4: "summary" is empty'),
        ('{"id": [1], "doc": "x", "summary": "y"}', BadRecord, 'line 4: "id" must be a string or a number'),
    ],
)
def test_io_parse_record_bad_lines_say_what_is_wrong(line: str, error: type, message: str) -> None:
    with pytest.raises(error) as err:
        parse_record(line, 4)
    assert str(err.value) == message


def test_io_parse_record_without_summary_for_articles_alone() -> None:
    rec = parse_record('{"id": "a", "article": "The sky is blue."}', 2, require_summary=False)
    assert rec == Record(id="a", doc="The sky is blue.", summary=(), line=2)
    with pytest.raises(BadRecord, match=r'"summary" must be a string'):  # present, so still validated
        parse_record('{"doc": "x", "summary": 3}', 2, require_summary=False)
    with pytest.raises(BadRecord, match=r'missing field "doc"'):
        parse_record('{"id": "a"}', 2, require_summary=False)


def test_io_parse_record_10000_bullets_are_too_many() -> None:
    line = json.dumps({"id": "a", "doc": "x", "summary": [f"b{i}" for i in range(10_000)]})
    with pytest.raises(InputTooLarge, match=r'^line 2: "summary" has 10,000 bullets; the limit is 200'):
        parse_record(line, 2)


def test_io_read_records_yields_one_item_per_line_and_goes_on() -> None:
    lines = [
        b'\xef\xbb\xbf{"id": "a", "doc": "D1.", "summary": "- S1."}\n',
        b"{not json\n",
        b'{"id": "c", "doc": "D3."}\n',
        b"\n",
        b'{"id": "e", "doc": "caf\xe9", "summary": "s"}\n',
        b'{"id": "f", "article": "D6.", "summary": ["S6."]}',
    ]
    items = list(read_records(iter(lines)))
    assert len(items) == len(lines)
    assert [type(i) for i in items] == [Record, RecordError, RecordError, RecordError, RecordError, Record]
    assert [i.line for i in items] == [1, 2, 3, 4, 5, 6]
    assert items[0].id == "a" and items[5].summary == ["S6."]
    assert items[2].id == "c" and str(items[2].error) == 'line 3: missing field "summary"'
    assert str(items[3].error) == "line 4 is blank; every line must hold one JSON record"
    assert str(items[4].error) == (
        "line 5 is not valid UTF-8 (byte 0xe9 at offset 23); convert it first, e.g. iconv -f latin1 -t utf-8 FILE > fixed.txt"
    )


def test_io_iter_lines_bounds_an_over_long_line() -> None:
    stream = io.BytesIO(b'{"id": 1}\n' + b"x" * 5000 + b"\n" + b'{"id": 3}\n')
    lines = list(iter_lines(stream, max_bytes=100))
    assert len(lines) == 3 and len(lines[1]) == 101
    items = list(read_records(iter(lines), max_bytes=100))
    assert str(items[1].error) == (
        "line 2 is larger than the limit of 100 bytes (0.0001 MB); raise it with --max-bytes"
    )
    assert MAX_INPUT_BYTES == 10_000_000
