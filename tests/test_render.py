"""The terminal and HTML views: verdicts, marked words, evidence with offsets, nothing interpreted."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from verisum.render.html import mark_text, render_check_html
from verisum.render.terminal import render_check

XSS_SOURCE = (
    "Mayor 😀 Ana <script>alert(1)</script> opened the bridge on Monday.\n"
    'A sign read <img src=x onerror="alert(2)"> & [bold]loud[/bold].'
)
XSS_SUMMARY = "- Mayor Ana opened the bridge on Monday.\n- Zorgons <b>invaded</b> the bridge."


def _terminal(result, colour: bool = False) -> str:
    buf = io.StringIO()
    render_check(result, buf, colour=colour)
    return buf.getvalue()


def test_render_terminal_shows_verdicts_faults_and_evidence_offsets(fake_checker) -> None:
    result = fake_checker.check(XSS_SOURCE, XSS_SUMMARY)
    out = _terminal(result)
    assert "\x1b[" not in out  # no colour codes when not a terminal
    assert "✓ SUPPORTED" in out and "? UNSUPPORTED" in out
    assert "1 of 2 summary sentences not supported" in out
    assert "at fault: “Zorgons”" in out
    ev = result.sentences[0].claims[0].evidence[0]
    assert f"evidence source[{ev.span.start}:{ev.span.end}] “{ev.span.text}”" in out
    assert XSS_SOURCE[ev.span.start : ev.span.end] == ev.span.text


def test_render_terminal_prints_markup_literally_and_colours_on_request(fake_checker) -> None:
    result = fake_checker.check(XSS_SOURCE, "- A sign read [bold]loud[/bold].")
    assert "[bold]loud[/bold]" in _terminal(result)
    coloured = _terminal(fake_checker.check(XSS_SOURCE, XSS_SUMMARY), colour=True)
    assert "\x1b[" in coloured and "Zorgons" in coloured


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_render_html_escapes_every_text(fake_checker) -> None:
    page = render_check_html(fake_checker.check(XSS_SOURCE, XSS_SUMMARY))
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page
    assert "Zorgons</mark> &lt;b&gt;" in page and "&lt;/b&gt;" in page
    parser = _Collect()
    parser.feed(page)
    tags = {t for t, _ in parser.tags}
    assert not tags & {"script", "img", "b", "iframe", "link"}
    assert all(not any(k.startswith("on") for k in attrs) for _, attrs in parser.tags)
    assert "<script>alert(1)</script>" in "".join(parser.text)  # shown as text


def test_render_html_is_self_contained(fake_checker) -> None:
    page = render_check_html(fake_checker.check(XSS_SOURCE, XSS_SUMMARY))
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert "default-src 'none'" in page


def test_render_html_marks_faults_and_links_evidence_by_code_point_offsets(fake_checker) -> None:
    result = fake_checker.check(XSS_SOURCE, XSS_SUMMARY)
    page = render_check_html(result)
    assert '<mark class="fault">Zorgons</mark>' in page
    assert '<section class="sentence supported"' in page and '<section class="sentence unsupported"' in page
    for sv in result.sentences:
        for ev in sv.evidence:
            anchor = f"src-{ev.span.start}-{ev.span.end}"
            assert f'href="#{anchor}"' in page
            # The marked article text is exactly the evidence, even after the emoji.
            m = re.search(f'<mark class="ev" id="{anchor}">(.*?)</mark>', page, re.S)
            assert m, anchor
            from html import unescape

            assert unescape(m.group(1)) == ev.span.text


def test_render_mark_text_wraps_escapes_and_merges() -> None:
    assert mark_text("a <b> c", 10, [(12, 15, "<i>")]) == "a <i>&lt;b&gt;</i> c"
    assert mark_text("abcdef", 0, [(1, 4, "<u>"), (2, 5, "<u>")]) == "a<u>bcd</u><u>e</u>f"
    assert mark_text("abc", 0, [(5, 9, "<u>")]) == "abc"
    assert mark_text("😀x", 0, [(1, 2, '<mark class="f">')]) == '😀<mark class="f">x</mark>'


CHAT = "Ann: Buy some butter. . Mike: Ok. . Mike: Do we have any milk? . Ann: I will check. . Ann: There is some."


def test_render_says_when_the_source_reads_as_a_transcript(fake_checker) -> None:
    chat = fake_checker.check(CHAT, "Ann asks Mike to buy butter.")
    assert chat.meta["source_kind"] == "transcript"
    assert "note: the source reads as a transcript or chat" in _terminal(chat)
    assert '<p class="note">the source reads as a transcript or chat' in render_check_html(chat)
    prose = fake_checker.check(XSS_SOURCE, XSS_SUMMARY)
    assert "source_kind" not in prose.meta
    assert "note:" not in _terminal(prose) and 'class="note"' not in render_check_html(prose)
