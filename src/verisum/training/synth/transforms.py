"""The transformations that make a pair: compressions (supported), single changes
(contradicted), and additions (unsupported). Each takes an explicit ``rng`` where it draws."""

from __future__ import annotations

import random
import re

from .words import COMMON_LOWER, DAYS, MONTHS, NUMWORDS, NUM_RE, SENT_START_COMMON, STOP, content_set, entities, recall


# helpers
# ---------------------------------------------------------------------------

LABELS = ["supported", "contradicted", "unsupported"]
MAX_CLAIM_WORDS = 55
MAX_PREMISE_WORDS = 90


def cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def decap(s: str) -> str:
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


def end(s: str) -> str:
    s = s.rstrip(" ,;:-")
    if not s.endswith((".", "!", "?", '"', "\u201d")):
        s += "."
    return s


def norm_space(s: str) -> str:
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
    return end(s[: m.start()])


def t_drop_leading(s):
    m = re.match(r"^(?:On|In|At|By|Last|Earlier|Later|Meanwhile|However|But|And|Also|Separately|"
                 r"Overall|Now|This|Yesterday|Today|Elsewhere|Still|Instead)\b[^,]{0,30},\s+", s)
    if not m:
        return None
    rest = s[m.end():]
    if len(rest.split()) < 5:
        return None
    return cap(rest)


def t_drop_attribution(s):
    m = re.match(r"^(.{25,}?),[\"\u201d]? (?:he|she|it|they|the [a-z]+|[A-Z][\w.\-']*(?: [A-Z][\w.\-']*){0,3})"
                 r" (?:said|says|added|told [A-Z]?[\w ]{1,30}?)\.$", s)
    if m:
        body = m.group(1).strip().lstrip("\"\u201c").rstrip(",\"\u201d")
        if len(body.split()) >= 5 and '"' not in body:
            return end(cap(body))
    m = re.search(r",? according to [^,.;]{2,60}", s)
    if m:
        r = (s[: m.start()] + s[m.end():]).strip()
        if len(r.split()) >= 5:
            return end(cap(norm_space(r)))
    m = re.match(r"^(?:[A-Z][\w.\-']*(?: [A-Z][\w.\-']*){0,3}|[Tt]he [a-z]+|He|She|It|They) "
                 r"(?:said|says|added|stated|reported|announced)(?: on [A-Z][a-z]+)?(?: that)? (.{20,})$", s)
    if m and '"' not in m.group(1):
        return end(cap(m.group(1)))
    return None


def t_reorder_attribution(s, rng=random):
    m = re.match(r"^[\"\u201c]?(.{20,}?),[\"\u201d]? ([A-Z][\w.\-']*(?: [A-Z][\w.\-']*){0,3}|the [a-z]+|he|she|it|they)"
                 r" (said|says|added)\.$", s)
    if not m:
        return None
    body, who, verb = m.group(1), m.group(2), m.group(3)
    if '"' in body or "\u201c" in body or len(body.split()) < 5:
        return None
    return end(cap(who) + " " + verb + " " + ("that " if rng.random() < 0.3 else "") + decap(body))


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
        return end(cap(part))
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
    return cap(rep) if src[:1].isupper() else rep


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
    return end(base.rstrip(" .") + tail)


#: Clauses that attach an invented point to a claim (``invented_tail``).
TEMPLATES = [", highlighting {np}", ", amid growing concerns over {np}", ", a move that could affect {np}",
             " in a bid to address {np}", ", raising questions about {np}", ", underlining {np}",
             ", as pressure mounts over {np}", ", in what was seen as a boost for {np}"]


def invented_tail(noun_phrases, rng):
    """A clause the source never states, about one of ``noun_phrases`` (", highlighting the
    importance of X"): the seed's invented clause."""
    return rng.choice(TEMPLATES).format(np=rng.choice(noun_phrases))


#: The finite verb a "subject + predicate" split cuts before (``split_predicate``), with the
#: grammatical number it demands of its subject where it has one (1 singular, 2 plural).
PREDICATE_VERBS = {
    "is": 1, "was": 1, "has": 1, "are": 2, "were": 2, "have": 2,
    "had": 0, "will": 0, "would": 0, "could": 0, "can": 0, "said": 0, "told": 0, "added": 0,
    "became": 0, "won": 0, "lost": 0, "led": 0, "made": 0, "took": 0, "gave": 0, "found": 0,
    "called": 0, "warned": 0, "announced": 0, "scored": 0, "joined": 0, "left": 0, "signed": 0,
    "agreed": 0, "rose": 0, "fell": 0, "plans": 1, "says": 1, "wants": 1, "met": 0, "opened": 0,
    "switched": 0, "approved": 0, "thanked": 0, "praised": 0, "launched": 0, "bought": 0, "sold": 0,
}
_DETERMINERS = frozenset("the a an this that these those its his her their our some many most all".split())
_PREDICATE_RE = re.compile(r"\s(" + "|".join(PREDICATE_VERBS) + r")\s")
_PRONOUN_SUBJECTS = frozenset("he she it they this that these those there i we you who which what".split())


def _names(subject, known):
    """The capitalised words of a subject (it opens its sentence) that name someone or something:
    "Millbrook" in "The coastal town of Millbrook"; none in "The firm", which may be anyone the
    story names. The opening word counts only where ``known`` (words capitalised inside a
    sentence) has it: "Keller", not "Local" of "Local taxes"."""
    words = [w.strip(".'’") for w in subject.split()]
    first, rest = (words[0], words[1:]) if words else ("", [])
    opens = first in known and first.lower() not in _DETERMINERS
    return {w for w in rest if w[:1].isupper()} | ({first} if opens else set())


def split_predicate(sentence):
    """(subject, predicate) of a plain declarative sentence: a subject of 1 to 7 words without
    a comma, quote or pronoun, cut before its finite verb ("The council | has approved the
    plan."), a predicate of 4 words or more without a quotation; None where no such cut is clear."""
    m = _PREDICATE_RE.search(sentence)
    if not m:
        return None
    subject, predicate = sentence[: m.start()].strip(), sentence[m.start() + 1:].strip()
    words = subject.split()
    if not 1 <= len(words) <= 7 or any(ch in subject for ch in ",;:\"“”'‘’(") \
            or any(w.lower() in _PRONOUN_SUBJECTS for w in words):
        return None
    if len(predicate.split()) < 4 or not predicate.endswith((".", "!", "?")) or any(ch in predicate for ch in "\"“”"):
        return None  # a quotation's words belong to its speaker
    return subject, predicate


def recombine(sentence, sentences, rng):
    """``sentence``'s subject with the predicate of another of ``sentences`` about someone else
    ("Eden Hazard | will persist with ...", said of the manager): every word from the source, the
    pairing invented, the intrinsic error of abstractive summaries that word overlap cannot see.
    Both subjects must carry names, and different ones: "The firm" and "TimeWarner" may be one
    company, and then the pairing would be true. None where ``sentence`` has no named subject or
    no other sentence a predicate that fits."""
    own = split_predicate(sentence)
    if own is None:
        return None
    subject, predicate = own
    number = PREDICATE_VERBS[predicate.split()[0]]
    known = {w.strip(".,;:'’\"") for s in [sentence, *sentences] for w in s.split()[1:] if w[:1].isupper()}
    names = _names(subject, known)
    if not names:
        return None  # "The firm" may be the company the other sentence names: no sure invention
    options = []
    for other in sentences:
        parts = split_predicate(other)
        if parts is None or other == sentence:
            continue
        their_subject, their_predicate = parts
        their_number = PREDICATE_VERBS[their_predicate.split()[0]]
        if (number and their_number and number != their_number) or \
                (their_number == 2 and not number and not re.search(r"s\b| and ", subject)):
            continue  # "The players | was ...", "McCoy | are ..." would read as a slip, not a claim
        theirs = _names(their_subject, known)
        if not theirs or theirs & names or recall(content_set(their_predicate), content_set(predicate)) >= 0.5:
            continue  # maybe the same one under another name, or nearly the same thing said
        options.append(their_predicate)
    if not options:
        return None
    return subject + " " + rng.choice(options)
