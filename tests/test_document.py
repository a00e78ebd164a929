"""Document / Span invariants: offsets slice the original text, sentences tile it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verisum.document import BULLET_RE, Document, is_hard_wrapped, split_sentences
from verisum.io import decode_text

# Pieces that exercise the sentence rules: stops, abbreviations, bullets, line ends, emoji.
_PIECES = [
    "The", "cat", "Mr.", "Dr.", "J.", "U.S.", "sat", "on", "42", "3.5", "mat", " ", " ", "  ", "\t",
    ".", ". ", "! ", "? ", "...", "\"", "”", ")", "\n", "\r\n", "\n\n", "- ", "* ", "• ", "1. ",
    "😀", "é", "Ω", "\u2028", "—", ",", ";",
]
texts = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join)


def _line_starts(text: str) -> list[int]:
    starts, pos = [], 0
    for line in text.splitlines(keepends=True):
        starts.append(pos)
        pos += len(line)
    return starts or [0]


def _bullet_chars(text: str) -> set[int]:
    """Offsets of characters that belong to a bullet marker at the start of a line."""
    out: set[int] = set()
    for start in _line_starts(text):
        m = BULLET_RE.match(text, start)
        if m:
            out.update(range(m.start(), m.end()))
    return out


@given(texts)
@settings(max_examples=300, deadline=None)
def test_document_sentences_slice_the_text_in_order(text: str) -> None:
    doc = Document(text)
    assert doc.text == text
    prev_end = 0
    bullets = _bullet_chars(text)
    for s in doc.sentences:
        assert s.text == text[s.start : s.end]
        assert s.text and s.text == s.text.strip(), "sentences carry no outer white space"
        assert prev_end <= s.start < s.end <= len(text), "in order, non-overlapping"
        gap = range(prev_end, s.start)
        assert all(text[i].isspace() or i in bullets for i in gap), repr(text[prev_end : s.start])
        prev_end = s.end
    assert all(text[i].isspace() or i in bullets for i in range(prev_end, len(text)))


@given(texts)
@settings(max_examples=200, deadline=None)
def test_document_words_and_spans_slice_the_text(text: str) -> None:
    doc = Document(text)
    for w in doc.words:
        assert w.text == text[w.start : w.end]
        assert w.to_dict() == {"start": w.start, "end": w.end, "text": text[w.start : w.end]}
    assert split_sentences(text) == [(s.start, s.end) for s in doc.sentences]


def test_document_keeps_crlf_and_drops_bom_through_io() -> None:
    raw = "\ufeff😀 Émoji lead.\r\nSecond line here. Third one.\r\n".encode("utf-8")
    text = decode_text(raw)
    assert text == "😀 Émoji lead.\r\nSecond line here. Third one.\r\n"
    doc = Document(text)
    assert [s.text for s in doc.sentences] == ["😀 Émoji lead.", "Second line here.", "Third one."]
    # Offsets are code points: the emoji counts as one character.
    assert doc.sentences[1].start == text.index("Second") == 15
    assert "\r" not in "".join(s.text for s in doc.sentences)


def test_document_bullet_markers_are_not_part_of_sentences() -> None:
    doc = Document("Title line\n- First bullet.\n* Second bullet\n• Third bullet")
    assert [s.text for s in doc.sentences] == ["Title line", "First bullet.", "Second bullet", "Third bullet"]


def test_document_abbreviations_do_not_end_sentences() -> None:
    doc = Document("Mr. Smith met Dr. Jones in the U.S. capital. They talked.")
    assert [s.text for s in doc.sentences] == ["Mr. Smith met Dr. Jones in the U.S. capital.", "They talked."]


def test_document_char_span_strict_refuses_a_cut_word() -> None:
    doc = Document("The quick brown fox")
    with pytest.raises(ValueError, match="cut through a word"):
        doc.char_span(5, 9)
    assert doc.char_span(5, 9, alignment_mode="expand").text == "quick"
    assert doc.char_span(3, 16, alignment_mode="contract").text == "quick brown"


def test_document_span_outside_the_text_is_refused() -> None:
    doc = Document("abc")
    with pytest.raises(ValueError, match="outside the document"):
        doc.span(1, 4)


@pytest.mark.parametrize("number", ["4,200", "1,000,000", "3.5", "2,500.75"])
def test_document_words_keep_numbers_whole(number):
    doc = Document(f"The bill was {number} dollars, he said.")
    assert number in [w.text for w in doc.words]


def test_document_transcript_turns_are_sentences_of_their_own():
    """A doctor-patient transcript written without punctuation: each turn is a unit, so
    retrieval can quote one turn instead of a run of 2,000 characters."""
    from verisum.document import Document

    text = ("[doctor] hi how are you doing today [patient] my knee has hurt since the boat trip "
            "[doctor] okay when did that happen [patient] about five days ago [doctor] any swelling "
            "[patient] a little in the evening")
    turns = [s.text for s in Document(text).sentences]
    assert turns == ["[doctor] hi how are you doing today", "[patient] my knee has hurt since the boat trip",
                     "[doctor] okay when did that happen", "[patient] about five days ago",
                     "[doctor] any swelling", "[patient] a little in the evening"]
    # a bracket that does not recur is part of its sentence ("[sic]", an editor's insertion)
    news = "He said the plan [sic] was final. The council [of Kell] agreed on Monday."
    assert [s.text for s in Document(news).sentences] == ["He said the plan [sic] was final.",
                                                          "The council [of Kell] agreed on Monday."]


@pytest.mark.parametrize("text", [
    # SAMSum-style chat, every turn on one line after a stop
    "Ann: Darling, buy some butter. . Mike: Ok. . Mike: Do we have any milk? . Ann: I will check. . Ann: Yes, some.",
    # a meeting transcript, one turn a line, two-word speaker names
    "Project Manager: Let us start.\nIndustrial Designer: The case costs twelve euros.\n"
    "Project Manager: Too much.\nIndustrial Designer: We can drop the solar cell.\nUser Interface: Agreed.",
    # a doctor-patient dialogue with bracketed speaker labels and no punctuation between turns
    "[doctor] how are you feeling [patient] tired mostly [doctor] any fever [patient] no [doctor] good",
])
def test_document_reads_chats_and_transcripts_as_transcripts(text: str) -> None:
    assert Document(text).is_transcript


@pytest.mark.parametrize("text", [
    # a news story that quotes one person three times, among many sentences
    "The council met on Monday. It approved the budget. Residents were angry. The vote was close. "
    "Joy Smith: We were not heard. The mayor disagreed. Joy Smith: Nobody asked us. Taxes will rise. "
    "The plan starts in May. Joy Smith: We will appeal. Officials said the appeal would fail. "
    "The budget is 4 million euros. Schools get most of it.",
    # a product page whose "Review:" fields recur, among the page's prose
    "Review: A fine book.\nReleased: 2004.\nReview: Dull in places.\nReview: Long. It sold well. "
    "Critics liked it. It was reprinted twice. A film followed in 2009. The author wrote a sequel. "
    "It won a prize. Schools teach it. A new edition is due.",
    "Putin meets Erdogan and Xi Jinping in Kazakhstan\nRussian President Vladimir Putin will meet Erdogan.",
])
def test_document_does_not_read_prose_as_a_transcript(text: str) -> None:
    assert not Document(text).is_transcript


BILL = (
    "SEC. 2. FINDINGS.\n\n"
    "    Congress finds that--\n"
    "            (1) the Korean War, which began in 1950 and ended when the \n"
    "        Korean War Armistice was signed in 1953, is commonly known as \n"
    "        the Forgotten War;\n"
    "            (2) a later war in Korea, known only to some veterans and \n"
    "        their families as the Unknown War, occurred long after the \n"
    "        Armistice was signed. That war caused the majority of the Armistice \n"
    "        casualties.\n\n"
    "    The Secretary shall report to Congress within one year.\n"
)


def test_document_joins_the_lines_of_hard_wrapped_text_into_sentences() -> None:
    """A bill broken at a fixed width: a line end inside a sentence is not a boundary, so a claim
    meets "That war caused the majority of the Armistice casualties." whole, not its two halves."""
    doc = Document(BILL)
    texts = [" ".join(s.text.split()) for s in doc.sentences]
    assert "That war caused the majority of the Armistice casualties." in texts
    assert any(t.startswith("(1) the Korean War, which began in 1950") and t.endswith("the Forgotten War;") for t in texts)
    assert "The Secretary shall report to Congress within one year." in texts  # a blank line still ends a block
    assert "Congress finds that--" in texts  # a line that ends without a word or comma ends its sentence
    for s in doc.sentences:
        assert BILL[s.start:s.end] == s.text and s.text == s.text.strip()


def test_document_joins_a_wrapped_abstract_whose_lines_continue_in_lower_case() -> None:
    text = ("We present the first verification that a neural network for perception tasks produces\n"
            " a correct output within a specified tolerance for every input of interest. We define\n"
            " correctness relative to a specification which identifies a state space consisting of\n"
            " all relevant states of the world and an observation process that produces neural\n"
            " network inputs from the states of the world. Tiling the state and input spaces with a\n"
            " finite number of tiles, we obtain ground truth bounds from the state tiles and network\n"
            " output bounds from the input tiles.\n")
    assert [" ".join(s.text.split()) for s in Document(text).sentences] == [
        "We present the first verification that a neural network for perception tasks produces a correct "
        "output within a specified tolerance for every input of interest.",
        "We define correctness relative to a specification which identifies a state space consisting of all "
        "relevant states of the world and an observation process that produces neural network inputs from "
        "the states of the world.",
        "Tiling the state and input spaces with a finite number of tiles, we obtain ground truth bounds from "
        "the state tiles and network output bounds from the input tiles."]


@pytest.mark.parametrize("text", [
    # a news article: its title line has no stop and stays a sentence of its own
    "Council approves the new budget for the city\nThe council approved the budget on Monday after a long debate.\n"
    "It passes next year's spending of 4.2 million euros, more than last year.\nThe mayor said she was pleased.\n",
    # highlights or captions, one a line without a stop, each opening with a capital
    "Incredible images show members of the gang being marched onto buses\nIn total 1,177 were transferred to "
    "a different jail in the north\nThe move is meant to break up the gang's leadership for good\nOfficials say "
    "more transfers will follow in the coming weeks\n",
    # a lower-cased summary, a sentence a line without stops (as Polytope's and FRANK's are written)
    "the 14-year-old is now fighting for her life in delhi 's safdarjung hospital\nshe was allegedly attacked on "
    "sunday when she went outside her house\non tuesday she set herself on fire using kerosene , according to "
    "ndtv\nher brother said she had been threatened by the men for days\nthe police have arrested two of them\n"
    "a third man is still being sought by officers in the city\n",
    # a chat: short turns without stops
    "Ann: are you going to the shop later today or not\nMike: yes I am, after work probably around six\n"
    "Ann: could you get some butter and a bag of flour too\nMike: sure, anything else you need for tomorrow\n",
])
def test_document_does_not_join_lines_that_are_not_hard_wrapped(text: str) -> None:
    assert not is_hard_wrapped(text)
    sentences = [s.text for s in Document(text).sentences]
    for line in (line.strip() for line in text.splitlines() if line.strip()):
        assert any(s.startswith(line[:20]) for s in sentences)  # every line starts a sentence
    assert not any("\n" in s for s in sentences)  # and none runs across a line end
