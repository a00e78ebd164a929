"""Synthetic premise/claim pairs for training the embedded NLI judge.

Every label comes from HOW the pair was made:

* supported: the claim is a source sentence (verbatim, a minority), a compression of it
  (dropped parenthetical / appositive / trailing clause / leading adverbial / attribution),
  a clause cut out of it, a re-ordered attribution, a number-format variant, or a fusion of two
  source sentences whose evidence lies in two premise sentences.
* contradicted: a positive with ONE change: an entity swapped for another of the same kind
  (same article, sometimes another article), a number/date/month/day changed, negation
  inserted or removed, a predicate replaced by its antonym, two entities swapped
  (agent/patient), the speaker swapped, or a discourse link flipped.
* unsupported: the claim's source sentence is removed from the premise (premise = other similar
  sentences of the same article), a positive with a trailing clause taken from another article,
  an inserted time/place not in the premise, a same-topic sentence of another article, or a
  positive fused with a clause from another article.

The premise imitates inference-time retrieval: the evidence sentence(s) plus 1-2 similar
(lexical overlap) or adjacent sentences of the same article, in document order (20%: 1-2
sentences only). Generation is deterministic for a given seed.

Run: ``python -m verisum.training.synth --out .train/synth_train.jsonl --val-out .train/synth_val.jsonl``
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
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
# helpers
# ---------------------------------------------------------------------------

LABELS = ["supported", "contradicted", "unsupported"]
MAX_CLAIM_WORDS = 55
MAX_PREMISE_WORDS = 90


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _decap(s: str) -> str:
    """Lower-case the first letter unless the first word looks like a name/acronym."""
    if not s:
        return s
    first = s.split(" ", 1)[0]
    fl = first.lower()
    if first == "I" or first.isupper():
        return s
    if first in SENT_START_COMMON or fl in STOP or fl in COMMON_LOWER:
        return s[:1].lower() + s[1:]
    return s


def _end(s: str) -> str:
    s = s.rstrip(" ,;:-")
    if not s.endswith((".", "!", "?", '"', "\u201d")):
        s += "."
    return s


def _norm_space(s: str) -> str:
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"\s+([,.;:])", r"\1", s)
    s = re.sub(r",\s*,", ",", s)
    s = re.sub(r",\s*\.$", ".", s)
    return s


def good_sentence(s: str) -> bool:
    w = s.split()
    if not (6 <= len(w) <= 50):
        return False
    letters = sum(c.isalpha() for c in s)
    if letters < 0.6 * len(s):
        return False
    if sum(c.isdigit() for c in s) > 0.15 * len(s):
        return False
    if s.isupper() or sum(1 for x in w if x.isupper() and len(x) > 2) > len(w) / 3:
        return False
    if not s[0].isupper() and s[0] not in "\"'\u201c":
        return False
    if s.count('"') % 2 == 1 or s.count("(") != s.count(")"):
        return False
    return s.rstrip()[-1:] in ".!?\"'\u201d"


# ---------------------------------------------------------------------------
# positive transformations (meaning-preserving), each returns str or None
# ---------------------------------------------------------------------------
def t_drop_paren(s):
    r = re.sub(r"\s*\([^()]{1,60}\)", "", s)
    return r if r != s else None


def t_drop_appositive(s):
    m = list(re.finditer(r"(?<!\d), (?:who|which|whose|a|an|the|now|formerly|aged)\b[^,;\d]{3,70},(?!\d)", s))
    if not m:
        return None
    x = m[0]
    if x.start() < 3:
        return None
    return s[: x.start()] + s[x.end() - 1 + 1:] if False else s[: x.start()] + " " + s[x.end():].lstrip()


def t_drop_trailing(s):
    m = re.search(
        r",\s+(?:which|who|while|as|after|with|amid|including|following|saying|adding|although|though|"
        r"compared with|up from|down from|[a-z]+ing\b)[^;]{3,}$", s)
    if not m or m.start() < 25:
        return None
    return _end(s[: m.start()])


def t_drop_leading(s):
    m = re.match(r"^(?:On|In|At|By|Last|Earlier|Later|Meanwhile|However|But|And|Also|Separately|"
                 r"Overall|Now|This|Yesterday|Today|Elsewhere|Still|Instead)\b[^,]{0,30},\s+", s)
    if not m:
        return None
    rest = s[m.end():]
    if len(rest.split()) < 5:
        return None
    return _cap(rest)


def t_drop_attribution(s):
    m = re.match(r"^(.{25,}?),[\"\u201d]? (?:he|she|it|they|the [a-z]+|[A-Z][\w.\-']*(?: [A-Z][\w.\-']*){0,3})"
                 r" (?:said|says|added|told [A-Z]?[\w ]{1,30}?)\.$", s)
    if m:
        body = m.group(1).strip().lstrip("\"\u201c").rstrip(",\"\u201d")
        if len(body.split()) >= 5 and '"' not in body:
            return _end(_cap(body))
    m = re.search(r",? according to [^,.;]{2,60}", s)
    if m:
        r = (s[: m.start()] + s[m.end():]).strip()
        if len(r.split()) >= 5:
            return _end(_cap(_norm_space(r)))
    m = re.match(r"^(?:[A-Z][\w.\-']*(?: [A-Z][\w.\-']*){0,3}|[Tt]he [a-z]+|He|She|It|They) "
                 r"(?:said|says|added|stated|reported|announced)(?: on [A-Z][a-z]+)?(?: that)? (.{20,})$", s)
    if m and '"' not in m.group(1):
        return _end(_cap(m.group(1)))
    return None


def t_reorder_attribution(s, rng=random):
    m = re.match(r"^[\"\u201c]?(.{20,}?),[\"\u201d]? ([A-Z][\w.\-']*(?: [A-Z][\w.\-']*){0,3}|the [a-z]+|he|she|it|they)"
                 r" (said|says|added)\.$", s)
    if not m:
        return None
    body, who, verb = m.group(1), m.group(2), m.group(3)
    if '"' in body or "\u201c" in body or len(body.split()) < 5:
        return None
    return _end(_cap(who) + " " + verb + " " + ("that " if rng.random() < 0.3 else "") + _decap(body))


def t_clause_cut(s):
    for pat, take in ((r"; ", 2), (r", while ", 2), (r", but ", 2), (r", which ", 1), (r", and ", 1),
                      (r"; ", 1), (r", while ", 1), (r", but ", 1), (r", and ", 2)):
        i = s.find(pat)
        if i < 0:
            continue
        a, b = s[:i], s[i + len(pat):]
        part = a if take == 1 else b
        if len(part.split()) < 6 or not re.search(r"\b(?:is|are|was|were|has|have|had|will|would|said|[a-z]+ed|[a-z]+s)\b", part):
            continue
        if take == 2 and re.match(r"^(?:it|he|she|they|this|that|which|who)\b", b):
            continue  # unresolved pronoun subjects make the clause unverifiable
        return _end(_cap(part))
    return None


COMPRESSIONS = [t_drop_paren, t_drop_appositive, t_drop_trailing, t_drop_leading, t_drop_attribution,
                t_clause_cut]


def _num_words(n: int) -> str:
    return NUMWORDS[n]


def t_number_format(s, rng=random):
    """5 -> five, 5,000 -> 5000, 76% -> 76 per cent, pct -> percent (meaning preserved)."""
    opts = []
    for m in re.finditer(r"(?<![\w.,$£€\-/])([2-9]|1[0-2])(?![\w.,%\-/:])(?! per| pct| percent)", s):
        opts.append((m.start(), m.end(), _num_words(int(m.group(1)))))
    for m in re.finditer(r"\b(\d{1,3}),(\d{3})\b(?!,)", s):
        opts.append((m.start(), m.end(), m.group(1) + m.group(2)))
    for m in re.finditer(r"\b(\d+(?:\.\d+)?)(%| per cent| percent| pct)", s):
        alt = rng.choice([x for x in ("%", " per cent", " percent") if x != m.group(2)])
        opts.append((m.start(), m.end(), m.group(1) + alt))
    for m in re.finditer(r"(?<![\w,])(\d)(\d{3})(?![\d,.])", s):
        if not re.fullmatch(r"1[89]\d\d|20\d\d", m.group(0)):
            opts.append((m.start(), m.end(), m.group(1) + "," + m.group(2)))
    if not opts:
        return None
    a, b, rep = rng.choice(opts)
    return s[:a] + rep + s[b:]


# ---------------------------------------------------------------------------
# contradiction transformations
# ---------------------------------------------------------------------------
ANTONYMS = [
    ("rose", "fell"), ("rise", "fall"), ("rising", "falling"), ("risen", "fallen"), ("rises", "falls"),
    ("increased", "decreased"), ("increase", "decrease"), ("increases", "decreases"),
    ("increasing", "decreasing"), ("gained", "lost"), ("won", "lost"), ("win", "lose"), ("wins", "loses"),
    ("higher", "lower"), ("approved", "rejected"), ("agreed", "refused"), ("accepted", "rejected"),
    ("raised", "cut"), ("boosted", "reduced"), ("stronger", "weaker"), ("strong", "weak"),
    ("profit", "loss"), ("profits", "losses"), ("above", "below"), ("bought", "sold"), ("buy", "sell"),
    ("buying", "selling"), ("expanded", "shrank"), ("improved", "worsened"), ("ahead of", "behind"),
    ("largest", "smallest"), ("biggest", "smallest"), ("highest", "lowest"), ("first", "last"),
    ("earlier", "later"), ("opened", "closed"), ("supported", "opposed"), ("supports", "opposes"),
    ("allowed", "banned"), ("surged", "plunged"), ("jumped", "slumped"), ("climbed", "dropped"),
    ("more", "fewer"), ("up", "down"), ("best", "worst"), ("easier", "harder"), ("success", "failure"),
    ("successful", "unsuccessful"), ("cheaper", "more expensive"), ("hired", "fired"),
    ("joined", "left"), ("arrived", "departed"), ("acquired", "sold"), ("ended", "began"),
    ("ends", "begins"), ("confirmed", "denied"), ("guilty", "innocent"), ("convicted", "acquitted"),
    ("majority", "minority"), ("maximum", "minimum"), ("positive", "negative"), ("winning", "losing"),
    ("beat", "lost to"), ("defeated", "lost to"), ("resigned", "was appointed"),
]
_ANT = {}
for a, b in ANTONYMS:
    _ANT.setdefault(a, b)
    _ANT.setdefault(b, a)
_ANT_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _ANT), key=len, reverse=True)) + r")\b", re.I)

NEG_PATTERNS = [
    (r"\b(will|would|could|should|can|may|must|might) not\b", r"\1"),
    (r"\bcannot\b", "can"), (r"\bwon't\b", "will"), (r"\bdidn't\b", "did"), (r"\bdoesn't\b", "does"),
    (r"\bisn't\b", "is"), (r"\bwasn't\b", "was"), (r"\baren't\b", "are"), (r"\bhasn't\b", "has"),
    (r"\b(is|are|was|were|has|have|had|did|does|do) not\b", r"\1"), (r"\bno longer\b", "still"),
    (r"\bnever\b", "already"),
]
NEG_INSERT = [
    (r"\b(will|would|could|should|may|must|might)\b(?! not)", r"\1 not"), (r"\bcan\b(?! not)", "cannot"),
    (r"\b(is|are|was|were)\b(?! not)(?= [a-z])", r"\1 not"), (r"\b(has|have|had)\b(?= [a-z]+ed\b)", r"\1 not"),
    (r"\bstill\b", "no longer"),
]

DISCOURSE = [("because of", "despite"), ("despite", "because of"), ("after", "before"),
             ("before", "after"), ("due to", "despite"), ("although", "because"), ("because", "although"),
             ("thanks to", "despite"), ("as a result of", "in spite of"), ("following", "ahead of")]


def _keep_case(src: str, rep: str) -> str:
    return _cap(rep) if src[:1].isupper() else rep


def c_negation(s, rng=random):
    opts = []
    for pat, rep in NEG_PATTERNS:
        for m in re.finditer(pat, s):
            opts.append((m, pat, rep))
    if opts and rng.random() < 0.6:
        m, pat, rep = rng.choice(opts)
        return s[: m.start()] + m.expand(rep) + s[m.end():]
    opts = []
    for pat, rep in NEG_INSERT:
        for m in re.finditer(pat, s):
            opts.append((m, rep))
    if not opts:
        return None
    m, rep = rng.choice(opts)
    return s[: m.start()] + m.expand(rep) + s[m.end():]


def c_antonym(s, rng=random):
    ms = list(_ANT_RE.finditer(s))
    if not ms:
        return None
    m = rng.choice(ms)
    w = m.group(1)
    rep = _ANT[w.lower()]
    return s[: m.start()] + _keep_case(w, rep) + s[m.end():]


def c_discourse(s, rng=random):
    opts = []
    for a, b in DISCOURSE:
        for m in re.finditer(r"\b" + re.escape(a) + r"\b", s, re.I):
            if m.start() == 0:
                continue
            opts.append((m, b))
    if not opts:
        return None
    m, b = rng.choice(opts)
    return s[: m.start()] + _keep_case(m.group(0), b) + s[m.end():]


def _change_number(m: re.Match, rng=random) -> str | None:
    cur, num, unit, pct = m.group(1) or "", m.group(2), m.group(3) or "", m.group(4) or ""
    raw = num.replace(",", "")
    try:
        v = float(raw)
    except ValueError:
        return None
    if re.fullmatch(r"(19|20)\d\d", raw) and not cur and not unit and not pct:
        nv = int(v) + rng.choice([-3, -2, -1, 1, 2, 3])
        return str(nv)
    dec = len(raw.split(".")[1]) if "." in raw else 0
    for _ in range(5):
        f = rng.choice([0.5, 0.6, 0.75, 0.8, 1.25, 1.5, 2, 3, 0.9, 1.1])
        if v < 20 and dec == 0:
            nv = v + rng.choice([-3, -2, -1, 1, 2, 3, 5])
        else:
            nv = v * f
        if nv <= 0:
            continue
        if dec:
            out = f"{nv:.{dec}f}"
        else:
            out = str(int(round(nv)))
            if "," in num:
                out = f"{int(round(nv)):,}"
        if out != num and float(out.replace(",", "")) != v:
            return cur + out + unit + pct
    return None


def c_number(s, rng=random):
    ms = list(NUM_RE.finditer(s))
    opts = []
    for m in ms:
        r = _change_number(m, rng)
        if r:
            opts.append((m.start(), m.end(), r))
    for m in re.finditer(r"\b(" + "|".join(MONTHS) + r")\b", s):
        opts.append((m.start(), m.end(), rng.choice([x for x in MONTHS if x != m.group(1)])))
    for m in re.finditer(r"\b(" + "|".join(DAYS) + r")\b", s):
        opts.append((m.start(), m.end(), rng.choice([x for x in DAYS if x != m.group(1)])))
    for m in re.finditer(r"\b(" + "|".join(NUMWORDS[2:11]) + r")\b", s):
        i = NUMWORDS.index(m.group(1))
        j = rng.choice([x for x in range(2, 11) if x != i])
        opts.append((m.start(), m.end(), NUMWORDS[j]))
    if not opts:
        return None
    a, b, rep = rng.choice(opts)
    return s[:a] + rep + s[b:]


def _tok_disjoint(a: str, b: str) -> bool:
    ta = {t.lower().strip(".'s") for t in a.split()}
    tb = {t.lower().strip(".'s") for t in b.split()}
    return not (ta & tb) and a.lower() not in b.lower() and b.lower() not in a.lower()


# ---------------------------------------------------------------------------
# error types on a whole sentence: the generator's contradicted / unsupported kinds and
# ``verisum perturb`` both call these (one definition of each error type)
# ---------------------------------------------------------------------------
ATTRIBUTION_AFTER = re.compile(r"\s*(?:said|says|told|added)\b")
ATTRIBUTION_BEFORE = re.compile(r"(?:according to|said)\s+$")


def swap_entity(base, caps, by_kind, rng, *, attribution=False, candidates=None, reject=None):
    """``base`` with one heuristic entity replaced by another of the same kind (from ``by_kind``:
    kind -> names, or ``candidates(kind)``), token-disjoint from it and absent from ``base``;
    ``attribution``: only a speaker ("X said", "according to X"). None when nothing fits."""
    ents = entities(base, caps)
    if attribution:
        ents = [e for e in ents if ATTRIBUTION_AFTER.match(base[e[1]:e[1] + 8])
                or ATTRIBUTION_BEFORE.search(base[max(0, e[0] - 14):e[0]])]
    if not ents:
        return None
    s, e, t, k = rng.choice(ents)
    if candidates is not None:
        cands = list(candidates(k))
    else:
        cands = list(by_kind.get(k, ()))
        if len(cands) < 2 and k != "MISC":
            cands += [x for x in by_kind.get("MISC", ()) if len(x.split()) == len(t.split())]
        rng.shuffle(cands)
    for c in cands:
        if c != t and _tok_disjoint(c, t) and c not in base:
            new = base[:s] + c + base[e:]
            if reject is not None and reject(new):
                continue
            return new
    return None


def swap_agents(base, caps):
    """``base`` with two entities of the same kind trading places (who did what to whom)."""
    ents = entities(base, caps)
    for a in range(len(ents)):
        for b in range(a + 1, len(ents)):
            e1, e2 = ents[a], ents[b]
            if e1[3] == e2[3] and _tok_disjoint(e1[2], e2[2]):
                return base[: e1[0]] + e2[2] + base[e1[1]: e2[0]] + e1[2] + base[e2[1]:]
    return None


def insert_circumstance(base, premise, places, rng):
    """``base`` with a time or place the premise never gives ("on Tuesday", "in March",
    "in 1998", "in <place>") inserted after a main verb or before the final stop."""
    opts = []
    if not re.search(r"\b(?:" + "|".join(DAYS) + r")\b", premise):
        opts.append(" on " + rng.choice(DAYS))
    if not re.search(r"\b(?:" + "|".join(MONTHS) + r")\b", premise):
        opts.append(" in " + rng.choice(MONTHS))
    if not re.search(r"\b(19|20)\d\d\b", premise):
        opts.append(" in " + str(rng.choice(range(1979, 2006))))
    if places:
        loc = rng.choice(places)
        if loc not in premise:
            opts.append(" in " + loc)
    if not opts:
        return None
    ins = rng.choice(opts)
    b = base.rstrip()
    m = re.search(r"[.!?][\"'\u201d]?$", b)
    if not m or '"' in b[-3:]:
        return None
    verbs = list(re.finditer(r"\b(said|announced|reported|agreed|rose|fell|won|was|were|has been|had been)\b", b))
    if verbs and rng.random() < 0.5:
        v = rng.choice(verbs)
        return b[: v.end()] + ins + b[v.end():]
    return b[: m.start()] + ins + b[m.start():]


def append_clause(base, tail):
    """``base`` with a clause (", highlighting ...") added before its final stop."""
    return _end(base.rstrip(" .") + tail)


def invented_tail(noun_phrases, rng):
    """A clause the source never states, about one of ``noun_phrases`` (", highlighting the
    importance of X"): the seed's invented clause."""
    return rng.choice(TEMPLATES).format(np=rng.choice(noun_phrases))


# ---------------------------------------------------------------------------
# pools from other articles (for unsupported material)
# ---------------------------------------------------------------------------
TRAIL_RE = re.compile(
    r",\s+((?:amid|as|after|while|following|despite|in a bid to|which|with|a move that|highlighting|"
    r"raising|underlining|prompting|fuelling|fueling|citing|ahead of)\s[^,;()\"]{12,80})\.$")
NP_RE = re.compile(r"\b(the (?:[a-z]+ ){0,2}(?:of|over|for|about) (?:the )?[a-z]+(?: [a-z]+)?)\b")
TEMPLATES = [", highlighting {np}", ", amid growing concerns over {np}", ", a move that could affect {np}",
             " in a bid to address {np}", ", raising questions about {np}", ", underlining {np}",
             ", as pressure mounts over {np}", ", in what was seen as a boost for {np}"]


class Pools:
    """Material from the whole corpus: trailing clauses, noun phrases, entities by kind,
    and an inverted index over sentences to find same-topic sentences of OTHER articles."""

    def __init__(self):
        self.trails: list[str] = []
        self.nps: list[str] = []
        self.ents: dict[str, list[str]] = defaultdict(list)
        self.sents: list[str] = []
        self.sent_art: list[int] = []
        self.index: dict[str, list[int]] = defaultdict(list)

    def add_article(self, art_i: int, sents: list[str], caps: set[str], rng: random.Random):
        for s in sents:
            m = TRAIL_RE.search(s)
            if m and len(self.trails) < 400000:
                self.trails.append(m.group(1))
            if rng.random() < 0.2:
                for np_ in NP_RE.findall(s)[:1]:
                    self.nps.append(np_)
            if rng.random() < 0.3:
                for _, _, t, k in entities(s, caps):
                    self.ents[k].append(t)
            if good_sentence(s) and rng.random() < 0.5:
                sid = len(self.sents)
                self.sents.append(s)
                self.sent_art.append(art_i)
                for w in content_set(s):
                    self.index[w].append(sid)

    def finalize(self):
        # drop very frequent postings (useless and slow)
        for w in list(self.index):
            if len(self.index[w]) > 3000 or len(self.index[w]) < 2:
                del self.index[w]

    def similar_sentence(self, claim_set: set[str], art_i: int, rng: random.Random) -> str | None:
        words_ = [w for w in claim_set if w in self.index]
        if not words_:
            return None
        words_.sort(key=lambda w: len(self.index[w]))
        cnt: Counter = Counter()
        for w in words_[:6]:
            for sid in self.index[w]:
                cnt[sid] += 1
        best = [sid for sid, c in cnt.most_common(12) if self.sent_art[sid] != art_i and c >= 2]
        if not best:
            return None
        return self.sents[rng.choice(best[:4])]


# ---------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------
KIND_WEIGHTS = {
    "supported": [("verbatim", 15), ("compress", 34), ("clause", 10), ("fusion", 17), ("reorder", 6),
                  ("numfmt", 8), ("scattered", 10)],
    "contradicted": [("entity_swap", 30), ("entity_swap_other", 6), ("number", 20), ("negation", 16),
                     ("antonym", 12), ("agent_patient", 5), ("attribution", 5), ("discourse", 6)],
    "unsupported": [("evidence_removed", 32), ("appended", 22), ("inserted", 12), ("other_article", 18),
                    ("wrong_fusion", 16)],
}
LABEL_WEIGHTS = [("supported", 45), ("contradicted", 25), ("unsupported", 30)]


def _wchoice(rng, items):
    tot = sum(w for _, w in items)
    x = rng.random() * tot
    for k, w in items:
        x -= w
        if x < 0:
            return k
    return items[-1][0]


class Article:
    __slots__ = ("idx", "sents", "sets", "caps", "ents", "good")

    def __init__(self, idx: int, sents: list[str]):
        self.idx = idx
        self.sents = sents
        self.sets = [content_set(s) for s in sents]
        caps = set()
        for s in sents:
            for m in ENT_RE.finditer(s):
                if m.start() > 0:
                    caps.add(m.group(0).rstrip("."))
        self.caps = caps
        self.ents = [entities(s, caps) for s in sents]
        self.good = [i for i, s in enumerate(sents) if good_sentence(s)]

    def ents_by_kind(self) -> dict[str, set[str]]:
        d: dict[str, set[str]] = defaultdict(set)
        for es in self.ents:
            for _, _, t, k in es:
                d[k].add(t)
        return d


def build_premise(art: Article, evid: list[int], claim_set: set[str], rng: random.Random,
                  exclude: set[int] | None = None, n_total: int | None = None) -> str:
    """Evidence sentences + similar (overlap-ranked) or adjacent sentences, in document order."""
    exclude = set(exclude or ())
    if n_total is None:
        n_total = 3 if rng.random() >= 0.2 else rng.choice([1, 2])
    n_total = max(n_total, len(evid))
    chosen = set(evid)
    cands = [i for i in range(len(art.sents)) if i not in chosen and i not in exclude]
    if cands and len(chosen) < n_total:
        if rng.random() < 0.7 or not evid:
            cands.sort(key=lambda i: -overlap(claim_set, art.sets[i]) - 0.02 * rng.random())
        else:
            cands.sort(key=lambda i: min(abs(i - e) for e in evid) + 0.1 * rng.random())
        for i in cands:
            if len(chosen) >= n_total:
                break
            if len(art.sents[i].split()) > 60:
                continue
            chosen.add(i)
    # keep premise short enough for 128 tokens; drop non-evidence sentences first
    order = sorted(chosen)
    while sum(len(art.sents[i].split()) for i in order) > MAX_PREMISE_WORDS:
        extra = [i for i in order if i not in evid]
        if not extra:
            break
        order.remove(extra[-1])
    return " ".join(art.sents[i] for i in order)


class Generator:
    def __init__(self, articles: list[list[str]], pools: Pools, seed: int):
        self.articles = articles
        self.pools = pools
        self.seed = seed

    # --- positives ---------------------------------------------------------
    def positive(self, art: Article, i: int, rng: random.Random, kind: str | None = None):
        """A supported claim derived from sentence i. Returns (claim, kind) or None."""
        s = art.sents[i]
        if kind is None:
            kind = _wchoice(rng, [("verbatim", 15), ("compress", 45), ("clause", 15), ("reorder", 8),
                                  ("numfmt", 10)])
        if kind == "verbatim":
            return s, "verbatim"
        if kind == "compress":
            fs = COMPRESSIONS[:]
            rng.shuffle(fs)
            out = s
            n = 0
            for f in fs:
                r = f(out)
                if r and len(r.split()) >= 5:
                    out = _norm_space(r)
                    n += 1
                    if rng.random() < 0.6:
                        break
            return (out, "compress") if n else None
        if kind == "clause":
            r = t_clause_cut(s)
            return (_norm_space(r), "clause") if r else None
        if kind == "reorder":
            r = t_reorder_attribution(s)
            return (_norm_space(r), "reorder") if r else None
        if kind == "numfmt":
            base = s
            if rng.random() < 0.5:
                c = self.positive(art, i, rng, "compress")
                if c:
                    base = c[0]
            r = t_number_format(base)
            return (r, "numfmt") if r else None
        return None

    def any_positive(self, art, i, rng, allow_verbatim=True):
        for k in (None, "compress", "clause", "verbatim"):
            r = self.positive(art, i, rng, k)
            if r and (allow_verbatim or r[1] != "verbatim"):
                return r
        return (art.sents[i], "verbatim") if allow_verbatim else None

    def fusion_parts(self, art, i, rng):
        cands = [j for j in art.good if j != i and abs(j - i) <= 4]
        if not cands:
            return None
        j = rng.choice(cands)
        a = self.any_positive(art, i, rng)[0]
        b = self.any_positive(art, j, rng)[0]
        b = re.sub(r"^(?:But|And|However|Also|Meanwhile),?\s+", "", b)
        if len(a.split()) + len(b.split()) > MAX_CLAIM_WORDS:
            # compress harder
            a = t_drop_trailing(a) or a
            b = t_drop_trailing(b) or b
            if len(a.split()) + len(b.split()) > MAX_CLAIM_WORDS:
                return None
        return a, b, j

    @staticmethod
    def fuse(a: str, b: str, rng) -> str:
        a = a.rstrip(" .")
        b = _decap(b)
        conj = rng.choice([", and ", " and ", ", while ", "; ", ", and ", ". "])
        if conj == ". ":
            b = _cap(b)
        return _end(_norm_space(a + conj + b))

    # --- main per-sentence routine ----------------------------------------
    def make(self, art: Article, i: int, rng: random.Random, label: str):
        kinds = KIND_WEIGHTS[label]
        tried = set()
        for _ in range(4):
            k = _wchoice(rng, [(a, w) for a, w in kinds if a not in tried])
            if tried and k == "verbatim":
                tried.add(k)
                continue
            tried.add(k)
            r = getattr(self, "k_" + k)(art, i, rng)
            if r:
                prem, claim = r
                claim = _norm_space(claim)
                if not prem or len(claim.split()) < 4 or len(claim.split()) > MAX_CLAIM_WORDS:
                    continue
                if label != "supported" and claim in prem:
                    continue
                return {"premise": prem, "claim": claim, "label": label, "kind": k}
            if len(tried) == len(kinds):
                break
        return None

    # supported kinds
    def k_verbatim(self, art, i, rng):
        s = art.sents[i]
        return build_premise(art, [i], art.sets[i], rng), s

    def _pos_kind(self, kind):
        def f(art, i, rng):
            r = self.positive(art, i, rng, kind)
            if not r or r[0] == art.sents[i]:
                return None
            return build_premise(art, [i], content_set(r[0]), rng), r[0]
        return f

    def k_compress(self, art, i, rng):
        return self._pos_kind("compress")(art, i, rng)

    def k_clause(self, art, i, rng):
        return self._pos_kind("clause")(art, i, rng)

    def k_reorder(self, art, i, rng):
        return self._pos_kind("reorder")(art, i, rng)

    def k_numfmt(self, art, i, rng):
        return self._pos_kind("numfmt")(art, i, rng)

    def k_fusion(self, art, i, rng):
        r = self.fusion_parts(art, i, rng)
        if not r:
            return None
        a, b, j = r
        claim = self.fuse(a, b, rng)
        return build_premise(art, sorted([i, j]), content_set(claim), rng, n_total=rng.choice([2, 3, 3])), claim

    def k_scattered(self, art, i, rng):
        # a claim built from parts of 2-3 sentences: clause from i + clause/compression from others
        r = self.fusion_parts(art, i, rng)
        if not r:
            return None
        a, b, j = r
        a2 = t_clause_cut(a) or a
        b2 = t_clause_cut(b) or b
        claim = self.fuse(a2, b2, rng)
        return build_premise(art, sorted([i, j]), content_set(claim), rng, n_total=3), claim

    # contradicted kinds: base is a positive, then one change
    def _neg_on_base(self, art, i, rng, fn):
        base = self.any_positive(art, i, rng)[0]
        r = fn(base)
        if not r or r == base:
            r = fn(art.sents[i])
            base = art.sents[i]
            if not r or r == base:
                return None
        return build_premise(art, [i], content_set(base), rng), r

    def k_number(self, art, i, rng):
        return self._neg_on_base(art, i, rng, c_number)

    def k_negation(self, art, i, rng):
        return self._neg_on_base(art, i, rng, c_negation)

    def k_antonym(self, art, i, rng):
        return self._neg_on_base(art, i, rng, c_antonym)

    def k_discourse(self, art, i, rng):
        return self._neg_on_base(art, i, rng, c_discourse)

    def _swap(self, art, i, rng, other_article=False, attribution=False):
        base = self.any_positive(art, i, rng)[0]
        if other_article:
            def candidates(kind):
                pool = self.pools.ents.get(kind) or []
                return [rng.choice(pool) for _ in range(8)] if pool else []
        else:
            candidates = None
        new = swap_entity(base, art.caps, art.ents_by_kind(), rng, attribution=attribution,
                          candidates=candidates, reject=lambda new: new in art.sents[i])
        return None if new is None else (build_premise(art, [i], content_set(base), rng), new)

    def k_entity_swap(self, art, i, rng):
        return self._swap(art, i, rng)

    def k_entity_swap_other(self, art, i, rng):
        return self._swap(art, i, rng, other_article=True)

    def k_attribution(self, art, i, rng):
        return self._swap(art, i, rng, attribution=True)

    def k_agent_patient(self, art, i, rng):
        base = self.any_positive(art, i, rng)[0]
        new = swap_agents(base, art.caps)
        return None if new is None else (build_premise(art, [i], content_set(base), rng), new)

    # unsupported kinds
    def k_evidence_removed(self, art, i, rng):
        if len(art.sents) < 3:
            return None
        claim = self.any_positive(art, i, rng)[0]
        cs = content_set(claim)
        excl = {i} | {j for j in range(len(art.sents)) if recall(cs, art.sets[j]) >= 0.6}
        # numbers/entities of the claim present elsewhere are fine; the full fact must not be
        prem = build_premise(art, [], cs, rng, exclude=excl, n_total=rng.choice([2, 3, 3, 3]))
        return (prem, claim) if prem else None

    def k_appended(self, art, i, rng):
        base = self.any_positive(art, i, rng)[0]
        # start from a compressed base so the claim is not systematically longer
        shorter = t_drop_trailing(base) or t_clause_cut(base) or base
        if len(shorter.split()) >= 6:
            base = shorter
        if rng.random() < 0.7 and self.pools.trails:
            tail = ", " + rng.choice(self.pools.trails)
        elif self.pools.nps:
            tail = rng.choice(TEMPLATES).format(np=rng.choice(self.pools.nps))
        else:
            return None
        tail_set = content_set(tail)
        prem = build_premise(art, [i], content_set(base), rng)
        if recall(tail_set, content_set(prem)) > 0.3:
            return None
        return prem, append_clause(base, tail)

    def k_inserted(self, art, i, rng):
        base = self.any_positive(art, i, rng)[0]
        prem = build_premise(art, [i], content_set(base), rng)
        new = insert_circumstance(base, prem, self.pools.ents.get("LOC", [])[:5000], rng)
        return None if new is None else (prem, new)

    def k_other_article(self, art, i, rng):
        prem_evid = [i]
        cs = art.sets[i]
        other = self.pools.similar_sentence(cs, art.idx, rng)
        if not other:
            return None
        oset = content_set(other)
        prem = build_premise(art, [], oset, rng, n_total=3)
        psets = content_set(prem)
        if recall(oset, psets) >= 0.6:
            return None
        del prem_evid
        # make the other sentence a claim-like compression as positives are
        c = other
        if rng.random() < 0.5:
            for f in (t_drop_trailing, t_drop_attribution, t_drop_paren, t_clause_cut):
                r = f(c)
                if r:
                    c = r
                    break
        return prem, c

    def k_wrong_fusion(self, art, i, rng):
        a = self.any_positive(art, i, rng)[0]
        other = self.pools.similar_sentence(art.sets[i], art.idx, rng)
        if not other:
            return None
        b = t_clause_cut(other) or t_drop_trailing(other) or other
        b = re.sub(r"^(?:But|And|However|Also|Meanwhile),?\s+", "", b)
        if len(a.split()) + len(b.split()) > MAX_CLAIM_WORDS:
            a = t_drop_trailing(a) or a
            if len(a.split()) + len(b.split()) > MAX_CLAIM_WORDS:
                return None
        if rng.random() < 0.5:
            claim = self.fuse(a, b, rng)
        else:
            claim = self.fuse(b, a, rng)
        prem = build_premise(art, [i], content_set(a), rng, n_total=rng.choice([2, 3, 3]))
        if recall(content_set(b), content_set(prem)) >= 0.5:
            return None
        return prem, claim


# ---------------------------------------------------------------------------
# corpus loading and driver
# ---------------------------------------------------------------------------
def _h(s: str) -> int:
    return int(hashlib.sha1(s.encode("utf-8")).hexdigest(), 16)


def load_texts(corpus: str, bench_dir: str | None) -> list[tuple[str, str]]:
    """(id, text) for every corpus article plus TRAIN-part bench-dev documents."""
    out = []
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            text = r["text"]
            lines = text.split("\n")
            if lines and lines[0].strip() == r.get("title", "").strip():
                text = "\n".join(lines[1:])
            if r.get("source", "").startswith("ag-news"):
                text = re.sub(r"^[A-Z][A-Za-z .,/]*\((?:Reuters|AP|AFP|CP|SPACE\.com|[A-Za-z.]+)\)\s*-+\s*", "", text)
                text = re.sub(r"\s+-\s+", " - ", text)
                text = text.replace(" 's", "'s")
            out.append((r["id"], text))
    if bench_dir and os.path.isdir(bench_dir):
        from verisum.training.bench import split_of
        seen = set()
        for fn in sorted(os.listdir(bench_dir)):
            if not fn.endswith(".jsonl"):
                continue
            with open(os.path.join(bench_dir, fn), encoding="utf-8") as f:
                for line in f:
                    r = json.loads(line)
                    d = r["doc"]
                    if d in seen or split_of(d) != "train" or len(d) < 400:
                        continue
                    seen.add(d)
                    if d.lower() == d:
                        continue  # lower-cased tokenised docs: entity heuristics do not work
                    out.append(("bench-" + r["id"], d))
    return out


_G: Generator | None = None
COMMON_LOWER: set[str] = set()  # words seen mostly lower-case mid-sentence (filled by generate)
_ARTS: list[tuple[str, list[str]]] = []


def _work(args):
    lo, hi, per_sent, seed = args
    g = _G
    res = []
    for ai in range(lo, hi):
        aid, sents = _ARTS[ai]
        rng = random.Random(_h(f"{seed}:{aid}"))
        random.seed(_h(f"{seed}:{aid}:g"))  # transformations use the global rng
        art = Article(ai, sents)
        for i in art.good:
            n = per_sent
            n = int(n) + (1 if rng.random() < n - int(n) else 0)
            for _ in range(n):
                label = _wchoice(rng, LABEL_WEIGHTS)
                ex = g.make(art, i, rng, label)
                if ex:
                    ex["src"] = aid
                    res.append(ex)
    return res


def generate(corpus: str, bench_dir: str | None, out_train: str, out_val: str, seed: int = 13,
             per_sent: float = 2.6, n_val: int = 2000, workers: int = 2, limit: int | None = None,
             val_frac: float = 0.02) -> dict:
    global _G, _ARTS
    t0 = time.time()
    texts = load_texts(corpus, bench_dir)
    if limit:
        rr = random.Random(seed)
        rr.shuffle(texts)
        texts = texts[:limit]
    arts = [(aid, split_sentences(t)) for aid, t in texts]
    arts = [(a, s) for a, s in arts if s]
    _ARTS = arts
    pools = Pools()
    prng = random.Random(seed)
    for ai, (_, sents) in enumerate(arts):
        caps = set()
        for s in sents:
            for m in ENT_RE.finditer(s):
                if m.start() > 0:
                    caps.add(m.group(0).rstrip("."))
        pools.add_article(ai, sents, caps, prng)
    pools.finalize()
    low: Counter = Counter()
    cap: Counter = Counter()
    for _, sents in arts[::3]:
        for s in sents:
            for w in s.split()[1:]:
                w = w.strip(".,;:\"'()")
                if w.isalpha():
                    (low if w.islower() else cap)[w.lower()] += 1
    COMMON_LOWER.clear()
    COMMON_LOWER.update(w for w, c in low.items() if c > cap.get(w, 0))
    _G = Generator([s for _, s in arts], pools, seed)
    print(f"[synth] {len(arts)} articles, {len(pools.sents)} pool sentences, {len(pools.trails)} trails, "
          f"loaded in {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    chunks = []
    step = 200
    for lo in range(0, len(arts), step):
        chunks.append((lo, min(len(arts), lo + step), per_sent, seed))
    if workers > 1:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(workers) as pool:
            results = pool.map(_work, chunks, chunksize=1)
    else:
        results = [_work(c) for c in chunks]
    is_val = lambda aid: _h(f"val:{aid}") % 1000 < int(val_frac * 1000)  # noqa: E731
    train, val = [], []
    for rs in results:
        for ex in rs:
            (val if is_val(ex["src"]) else train).append(ex)
    vr = random.Random(seed + 1)
    vr.shuffle(val)
    val = val[:n_val]
    os.makedirs(os.path.dirname(os.path.abspath(out_train)), exist_ok=True)
    with open(out_train, "w", encoding="utf-8") as f:
        for ex in train:
            f.write(json.dumps(ex, ensure_ascii=False) + "\n")
    with open(out_val, "w", encoding="utf-8") as f:
        for ex in val:
            f.write(json.dumps(ex, ensure_ascii=False) + "\n")
    stats = {"n_train": len(train), "n_val": len(val), "seconds": round(time.time() - t0),
             "by_label": Counter(e["label"] for e in train), "by_kind": Counter(e["kind"] for e in train)}
    return stats


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description="Generate synthetic NLI pairs for the embedded judge.")
    ap.add_argument("--corpus", default="/work/shared/data/news/corpus.jsonl")
    ap.add_argument("--bench", default="/work/shared/data/bench-dev")
    ap.add_argument("--out", default=".train/synth_train.jsonl")
    ap.add_argument("--val-out", default=".train/synth_val.jsonl")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--per-sent", type=float, default=2.6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="use only N articles (smoke tests)")
    ap.add_argument("--balance", nargs=2, metavar=("IN", "OUT"), default=None,
                    help="only run the surface-feature balancing step on IN, write OUT")
    a = ap.parse_args(argv)
    if a.balance:
        print(json.dumps(balance(a.balance[0], a.balance[1], a.seed), indent=1, default=dict))
        return
    st = generate(a.corpus, a.bench, a.out, a.val_out, a.seed, a.per_sent, workers=a.workers, limit=a.limit)
    print(json.dumps(st, indent=1, default=dict))



# ---------------------------------------------------------------------------
# artefact control: equalise label proportions within strata of surface features
# ---------------------------------------------------------------------------
def surface_cell(claim: str) -> tuple:
    w = claim.split()
    caps = sum(x[:1].isupper() for x in w)
    return (min(len(w) // 4, 14), 1 if re.search(r", [a-z]", claim) else 0, min(caps // 2, 6))


def balance(in_path: str, out_path: str, seed: int = 13,
            ratios: dict | None = None) -> dict:
    """Subsample so that, within every (length bin, lowercase-after-comma, capitals bin) cell, the
    labels have the target proportions: claim length / commas / capitals cannot separate classes."""
    ratios = ratios or {"supported": 0.45, "contradicted": 0.25, "unsupported": 0.30}
    cells: dict = defaultdict(lambda: defaultdict(list))
    lines = []
    with open(in_path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            r = json.loads(line)
            cells[surface_cell(r["claim"])][r["label"]].append(i)
            lines.append(line)
    rng = random.Random(seed)
    keep = []
    for cell in sorted(cells):
        byl = cells[cell]
        n = min(len(byl.get(lab, ())) / p for lab, p in ratios.items())
        for lab, p in ratios.items():
            idx = byl.get(lab, [])
            k = int(round(n * p))
            keep.extend(rng.sample(idx, k) if k < len(idx) else idx[:k])
    keep.sort()
    with open(out_path, "w", encoding="utf-8") as f:
        for i in keep:
            f.write(lines[i])
    by_label = Counter(json.loads(lines[i])["label"] for i in keep)
    by_kind = Counter(json.loads(lines[i])["kind"] for i in keep)
    return {"n_in": len(lines), "n_out": len(keep), "by_label": by_label, "by_kind": by_kind}


if __name__ == "__main__":
    main()
