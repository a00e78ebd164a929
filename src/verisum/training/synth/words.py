"""The generator's own word and sentence rules (sentence splitter, stopwords, months, days,
number words, entity patterns). They are kept apart from :mod:`verisum.text` on purpose: the
generator's output, and so a trained model, must not move when the checker's rules change."""

from __future__ import annotations

import re


ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "st", "sen", "rep", "gov", "gen", "col", "lt", "sgt",
    "capt", "jr", "sr", "inc", "corp", "co", "ltd", "no", "vs", "v", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n",
    "e.g", "i.e", "etc", "mt", "ft", "fig", "approx", "dept", "est", "rev", "hon", "messrs",
    "bros", "plc", "a.m", "p.m", "d.c", "n.y", "ave", "maj", "adm", "cmdr", "supt", "insp",
}

_BOUNDARY = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")

STOP = set(
    """a an the and or but if of to in on at by for with from as is are was were be been being
    it its it's this that these those he she they them his her their we our you your i me my
    not no yes so than then there here which who whom whose what when where why how all any
    each both few more most other some such only own same too very can will just should would
    could may might must shall do does did done has have had having said says say also after
    before into over under about against between through during up down out off again further
    once new one two last year years mln pct dlrs per cent percent told would""".split()
)


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences (paragraph breaks are hard boundaries).

    Handles common abbreviations (Mr., U.S., Corp.), single-letter initials and decimals.
    """
    out: list[str] = []
    for para in re.split(r"\n+", text):
        para = " ".join(para.split())
        if not para:
            continue
        pieces = _BOUNDARY.split(para)
        buf = ""
        for p in pieces:
            if not buf:
                buf = p
                continue
            last = buf.rstrip("\"')]\u201d\u2019").split(" ")[-1].rstrip(".").lower()
            # abbreviation or initial ("J.", "U.S.") -> not a boundary
            if last in ABBREV or (len(last) == 1 and last.isalpha()) or re.fullmatch(r"(?:[a-z]\.)+[a-z]", last):
                buf = buf + " " + p
            else:
                out.append(buf)
                buf = p
        if buf:
            out.append(buf)
    return [s.strip() for s in out if s.strip()]


def words(s: str) -> list[str]:
    return _WORD.findall(s)


def content_set(s: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(s) if w.lower() not in STOP and len(w) > 1}


def overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / (len(a | b) ** 0.5 * 1.0 + 1e-9)


def recall(claim: set[str], sent: set[str]) -> float:
    if not claim:
        return 0.0
    return len(claim & sent) / len(claim)


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NUMWORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "ten", "eleven", "twelve"]

SENT_START_COMMON = set(
    """The A An But And However He She It They This That These Those In On At By For With From
    As After Before When While Its His Her Their Our We I If Although Meanwhile Last Earlier
    Later Now Also Some Many Most One Two Three There Here What Why How Mr Mrs Ms Under Over
    Since Despite During Both Each Other Such Only Yet So Then Still""".split()
)

NON_ENTITY_CAPS = set(MONTHS + DAYS) | {"I", "Mr", "Mrs", "Ms", "Dr", "The", "A", "An"}

ENT_RE = re.compile(
    r"(?<![\w'])(?:[A-Z][A-Za-z'\-&\.]*[A-Za-z]|[A-Z])(?:\s+(?:of\s+|de\s+|for\s+|and\s+)?(?:[A-Z][A-Za-z'\-&\.]*[A-Za-z]|[A-Z]\.?))*"
)
ORG_HINT = re.compile(
    r"\b(?:Inc|Corp|Co|Ltd|Group|Bank|Party|Council|Association|Commission|Ministry|University|"
    r"Club|United|City|Airlines|Motors|Company|Corporation|Agency|Board|Committee|Department|"
    r"Office|Federation|Union|Court|Parliament|Fund|Organisation|Organization|Industries|"
    r"Holdings|International|Securities|Exchange|Reserve|Institute|Service|Times|News|FC)\b"
)
PERSON_TITLE = re.compile(
    r"(?:Mr|Mrs|Ms|Dr|President|Minister|Secretary|Chancellor|Judge|Senator|Sen\.|Rep\.|Prof\.|"
    r"Professor|Chairman|chairman|coach|manager|spokesman|spokeswoman|Governor|Gov\.|King|Queen|"
    r"Prince|General|Gen\.|Captain|Chief|director|striker|midfielder|defender|singer|actor|actress)\.?\s+$"
)
PLACES = set(
    """Afghanistan Africa Albania Algeria America Argentina Asia Australia Austria Bangladesh
    Belgium Beijing Berlin Bolivia Brazil Britain Brussels Bulgaria Cairo Canada Chicago Chile
    China Colombia Congo Croatia Cuba Cyprus Czech Denmark Dublin Edinburgh Egypt England Europe
    Finland France Gaza Geneva Germany Ghana Glasgow Greece Haiti Holland Hungary India Indonesia
    Iran Iraq Ireland Israel Italy Jakarta Jamaica Japan Jerusalem Jordan Kabul Kenya Korea
    Kuwait Lebanon Liverpool London Madrid Malaysia Manchester Mexico Moscow Nepal Netherlands
    Nigeria Norway Pakistan Palestine Paris Peru Philippines Poland Portugal Rome Russia Scotland
    Seoul Singapore Spain Sudan Sweden Switzerland Sydney Syria Taiwan Tehran Texas Thailand Tokyo
    Toronto Turkey Uganda Ukraine Venezuela Vietnam Wales Washington Zimbabwe California Florida
    York Boston Ohio Belfast Cardiff Leeds Birmingham Bristol Hong Kong Baghdad Delhi Mumbai
    Shanghai Ottawa Vienna Warsaw Athens Lisbon Stockholm Oslo Helsinki Zurich Frankfurt Milan""".split()
)


def entities(sent: str, article_caps: set[str] | None = None) -> list[tuple[int, int, str, str]]:
    """Heuristic named entities: (start, end, text, kind) with kind in PER/ORG/LOC/MISC.

    Capitalised sequences; a sequence at sentence start is kept only when it is known from a
    non-initial position of the article (``article_caps``) after stripping common first words.
    """
    out = []
    for m in ENT_RE.finditer(sent):
        s, e, t = m.start(), m.end(), m.group(0)
        t2 = t.rstrip(".")
        e = s + len(t2)
        t = t2
        if not t:
            continue
        toks = t.split()
        if s == 0 or sent[:s].rstrip().endswith(("\"", "\u201c", ":")) and s < 3:
            while toks and toks[0] in SENT_START_COMMON:
                s += len(toks[0]) + 1
                toks = toks[1:]
            t = " ".join(toks)
            if not t or article_caps is None or t not in article_caps:
                continue
        while toks and toks[-1] in ("of", "and", "for", "de"):
            toks = toks[:-1]
        t = " ".join(toks)
        e = s + len(t)
        if not t or t in NON_ENTITY_CAPS or len(t) < 2 or t.isupper() and len(t) > 6:
            continue
        if any(tok in NON_ENTITY_CAPS for tok in toks):
            continue
        kind = "MISC"
        before = sent[max(0, s - 14):s]
        after = sent[e:e + 8]
        if ORG_HINT.search(t):
            kind = "ORG"
        elif t in PLACES or any(tok in PLACES for tok in toks):
            kind = "LOC"
        elif PERSON_TITLE.search(before) or re.match(r"\s*(?:said|says|told|added)\b", after) or (
            2 <= len(toks) <= 3 and all(re.fullmatch(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?", x) for x in toks)
        ):
            kind = "PER"
        elif re.search(r"\b(?:in|at|from|near)\s+$", before):
            kind = "LOC"
        out.append((s, e, t, kind))
    return out


NUM_RE = re.compile(
    r"(?<![\w.,])(\$|£|€)?(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(bn|m|mln|k)?(%| per ?cent| percent| pct)?(?![\w])"
)


# ---------------------------------------------------------------------------


#: Words seen mostly lower-case mid-sentence in the corpus; filled (in place) by ``driver.generate``.
COMMON_LOWER: set[str] = set()
