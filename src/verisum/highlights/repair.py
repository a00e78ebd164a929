"""Make article sentences read as stand-alone bullets, and offer shorter forms of long ones.

A sentence lifted out of an article often leans on the one before it: it opens with a
connective ("However, ...", "But ...", "And ...") or a pronoun ("He said ..."). As a bullet it
must stand alone, so:

- a leading connective is dropped (the bullet no longer claims a link to a sentence that is
  not there);
- a leading "He"/"She"/"His"/"Her" becomes the person's name when the article makes clear who
  it is (exactly one person named in the nearest preceding sentences that name anyone);
- a sentence that still starts with a pronoun ("They", "It", "This is", "I") cannot stand
  alone and is not offered as a bullet.

Shortening only proposes forms (dropping a relative clause, a trailing subordinate clause, a
leading adverbial clause); the caller keeps a shorter form only if it passes the checker.

Articles may come lower-cased (CNN/DailyMail as distributed: only sentence-initial letters are
capitals). Names are then found from patterns instead of capitals ("eva chapin, 34, ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from ..document import PHOTO_POINTER_RE, Document, Span

__all__ = [
    "clean_sentence",
    "drop_connective",
    "dangling_start",
    "unattributed_speech",
    "make_standalone",
    "shorter_forms",
    "Standalone",
    "DANGLING_WORDS",
    "recase",
    "is_lowercased",
]

#: Openers that make a bullet lean on text it does not carry.
CONNECTIVES = (
    "however", "but", "and", "also", "meanwhile", "still", "yet", "so", "moreover", "furthermore",
    "in addition", "additionally", "instead", "nevertheless", "nonetheless", "besides", "then",
    "now", "indeed", "in fact", "as a result", "consequently", "therefore", "thus", "otherwise",
    "at the same time", "on the other hand", "by contrast", "in contrast", "likewise", "similarly",
    "for example", "for instance", "even so", "after that", "afterwards", "later", "too", "plus",
)
_PERSON_PRONOUNS = {"he": "", "she": "", "his": "'s", "her": "'s", "him": ""}
_OTHER_PRONOUNS = ("they", "them", "their", "it", "its", "i", "we", "our", "my", "me", "you", "your",
                   "us", "theirs", "hers", "himself", "herself", "itself", "themselves")
_DEMONSTRATIVES = ("this", "that", "these", "those", "such", "there", "here", "the latter", "the former")
#: Every word that may not open a bullet (lower case); used by tests and the final guard.
DANGLING_WORDS = frozenset([*CONNECTIVES, *_PERSON_PRONOUNS, *_OTHER_PRONOUNS])

# A demonstrative dangles when a verb follows it ("This is ...", "That was ..."); "This year"
# or "These photos" are determiners and read fine.
_VERBISH = frozenset(
    """is was are were has have had will would can could may might must should shall did does do
    means meant comes came made makes led leads left followed follows happened includes included
    said says appears appeared seems seemed remains remained also marks marked""".split()
)

_CONNECTIVE_RE = re.compile(
    r"^\s*(?:" + "|".join(sorted((re.escape(c) for c in CONNECTIVES), key=len, reverse=True)) + r")\b[,;:]?\s+",
    re.IGNORECASE,
)
_FIRST_WORD_RE = re.compile(r"^\W*([A-Za-z']+)(?:\s+([A-Za-z']+))?")

# Datelines and wire boilerplate at the start of a sentence.
_DATELINE_RES = (
    re.compile(r"^\s*(?:[\w .,'-]{0,60}?)?\(cnn\)\s*(?:--|—|-)?\s*", re.IGNORECASE),
    re.compile(r"^\s*(?:[A-Z][\w .,'-]{0,40}?\s)?\((?:reuters|ap|afp|ew\.com|cnn\s?money)\)\s*(?:--|—|-)?\s*", re.IGNORECASE),
    re.compile(r"^\s*by\s*\.\s*[\w .'-]{0,60}?\s*\.\s*", re.IGNORECASE),
    re.compile(r"^\s*(?:last\s+)?(?:published|updated)\s*:\s*\.?\s*\d{1,2}:\d{2}\s*\w*,?\s*\d{1,2}\s+\w+\s+\d{4}\s*\.?\s*\|?\s*\.?\s*", re.IGNORECASE),
)
#: Sentences that are page furniture, never news.
BOILERPLATE_RE = re.compile(
    r"click here|scroll down|follow us|follow @|sign up for|subscribe|e-?mail to a friend|"
    r"all rights reserved|copyright|daily mail reporter|published\s*:|updated\s*:|"
    r"for confidential support|samaritans|watch the video|read more\b|share this|"
    r"points? of view|contributed to this report",
    re.IGNORECASE,
)


def clean_sentence(text: str) -> str:
    """The sentence without datelines, wire tags and stray quote marks, on one line."""
    text = " ".join(text.split())
    head = text[:120].lower()
    changed = "(" in head or head.startswith(("by", "published", "updated", "last"))
    while changed:
        changed = False
        for rx in _DATELINE_RES:
            m = rx.match(text)
            if m and m.end() < len(text):
                text = text[m.end():]
                changed = True
    text = PHOTO_POINTER_RE.sub("", text)
    m = _CAPTION_RE.match(text)
    if m and len(text) - m.end() > 20:
        text = text[m.end():]  # "Fraud: starrs, 50, was ..." -> "Starrs, 50, was ..."
    text = text.strip(" -–—|")
    # A lone quote mark at either end (the other half lives in another sentence).
    for q_open, q_close in (('"', '"'), ("“", "”"), ("'", "'"), ("‘", "’")):
        if text.count(q_open) + (text.count(q_close) if q_close != q_open else 0) == 1:
            text = text.strip(q_open + q_close + " ")
    return _capitalise(text)


def _capitalise(text: str) -> str:
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :]
        if ch.isdigit():
            return text
    return text


def drop_connective(text: str) -> str:
    """"However, the ban stays" -> "The ban stays" (repeatedly: "And so, ...")."""
    while True:
        m = _CONNECTIVE_RE.match(text)
        if not m or m.end() >= len(text):
            return text
        rest = text[m.end():]
        # "So far", "Now aged 30", "Later this year": a time/degree word that is part of the clause.
        if m.group(0).strip().lower() in ("so", "now", "then", "later", "too", "still", "yet") and not m.group(0).rstrip().endswith(","):
            first = rest.split(" ", 1)[0].lower().strip(",;:")
            if first in ("far", "much", "many", "that", "aged", "this", "next", "in", "on", "the", "than"):
                return text
        text = _capitalise(rest)


# "When she picked it up, ...", "Called the FNR, it boasts ...": the subject is a pronoun
# after a leading clause, or the leading clause itself leans on one.
_LEADING_CLAUSE_PRONOUN_RE = re.compile(r"^[^,;:]{1,80},\s+(he|she|it|they|his|her|its|their)\b", re.IGNORECASE)
_SUBORDINATE_PRONOUN_RE = re.compile(
    r"^(?:when|as|after|while|before|because|although|if|since|once|though|until)\s+(he|she|it|they)\b",
    re.IGNORECASE,
)
# A photo caption: "Arrival: two members of the gang ...", "Pictured: ...".
_CAPTION_RE = re.compile(r"^(?![^:]*\b(?:said|says|added|told|wrote|explained|insisted|claimed|admitted)\b)[^:.!?]{1,30}:\s")


# A capitalised word after the first: a name a later pronoun can refer to.
_NAME_BEFORE_RE = re.compile(r"\b[A-Z][a-z]+")


def _is_acronym(word: str) -> bool:
    """"US", "IT": upper-case words of two or more letters are names, not the pronouns us / it."""
    return len(word) > 1 and word.isupper()


# Speech verbs: "Another said: ..." leans on whoever the article quoted before.
_SPEECH = frozenset("said says added told wrote tweeted posted replied insisted claimed admitted explained".split())
# First person in a bullet is somebody's speech; without a speech verb the bullet never says whose.
_FIRST_PERSON_RE = re.compile(r"(?<![.\w])(?:i|i'm|i've|i'd|i'll|me|my|mine|we|we're|we've|our|ours)(?![.\w'’])", re.IGNORECASE)
_ATTRIBUTION_RE = re.compile(r"\b(?:" + "|".join(sorted(_SPEECH)) + r"|says?|according to|revealed|told)\b", re.IGNORECASE)


def dangling_start(text: str) -> str | None:
    """The word(s) that make ``text`` lean on missing context, or None when it stands alone."""
    m = _CONNECTIVE_RE.match(text)
    if m:
        return m.group(0).strip(" ,;:")
    for rx in (_LEADING_CLAUSE_PRONOUN_RE, _SUBORDINATE_PRONOUN_RE):
        m = rx.match(text)
        if m and not _NAME_BEFORE_RE.search(text, 1, m.start(1)):
            # "If Holmes does not appear, his lawyers ...": the pronoun's referent is right there.
            return m.group(1)
    m = _CAPTION_RE.match(text)
    if m:
        return m.group(0).strip()
    fm = _FIRST_WORD_RE.match(text)
    if not fm:
        return None
    first = fm.group(1).lower()
    second = (fm.group(2) or "").lower()
    if (first in _PERSON_PRONOUNS or first in _OTHER_PRONOUNS) and not _is_acronym(fm.group(1)):
        return fm.group(1)
    if first in ("this", "that", "these", "those", "such", "there", "here") and (
        not second or second in _VERBISH or second in ("the", "a", "an")
    ):
        return fm.group(1)
    if f"{first} {second}" in ("the latter", "the former"):
        return f"{fm.group(1)} {fm.group(2)}"
    if first in ("another", "others", "both") and second in _SPEECH:
        return f"{fm.group(1)} {fm.group(2)}"
    return None


def unattributed_speech(text: str) -> str | None:
    """The first-person word of ``text`` when nothing in it says who is speaking, else None."""
    m = _FIRST_PERSON_RE.search(text)
    if m is None or _ATTRIBUTION_RE.search(text):
        return None
    return m.group(0)


# -- names -------------------------------------------------------------------------------
_TITLES = r"(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Dame|Lord|Lady|President|Prime Minister|Senator|Sen|Rep|Gov|Governor|King|Queen|Prince|Princess|Pope|Judge|Chancellor|Coach|Captain|General|Gen|Officer|Sgt|Detective)\.?"
_CAP = r"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)*"
_CASED_NAME_RE = re.compile(rf"\b(?:{_TITLES}\s+)?{_CAP}(?:\s+(?:[A-Z]\.\s+)?{_CAP}){{1,4}}\b|\b{_TITLES}\s+{_CAP}\b")
# Words that lead a name without being part of it: titles, offices, nationalities.
_TITLE_WORDS = frozenset(
    """mr mrs ms miss dr prof sir dame lord lady president prime minister vice deputy foreign
    secretary senator sen rep representative gov governor king queen prince princess pope judge
    chancellor coach captain general gen officer sgt detective chief minister manager chairman
    ceo director spokesman spokeswoman leader premier mayor former late star striker midfielder
    defender goalkeeper boss actor actress singer""".split()
)
_NOT_NAME_WORDS = frozenset(
    """the a an in on at of for and but or if when while after before during since as this that these
    those there here it its his her he she they we you i my our your their from to by with new north south
    east west january february march april may june july august september october november december monday
    tuesday wednesday thursday friday saturday sunday police officials court state city county university
    house church street road hospital school club league cup united party government ministry department""".split()
)
# Lower-cased articles: a name followed by an age ("eva chapin, 34,") or a "said" attribution.
_LOWER_AGE_RE = re.compile(r"(?:^|[.!?]\s+|,\s+)((?:[A-Za-z][a-z'-]+\s){0,1}[A-Za-z][a-z'-]+),\s+\d{1,3},")
_LOWER_SAID_RE = re.compile(r"\bsaid\s+((?:mr|mrs|ms|dr)\.?\s+)?([a-z][a-z'-]+(?:\s[a-z][a-z'-]+)?)\s*[.,]")


@dataclass(frozen=True, slots=True)
class Standalone:
    """A sentence made stand-alone, or the reason it could not be (``text`` is None)."""

    text: str | None
    reason: str | None = None
    changed: bool = False


def _is_lowercased(doc: Document) -> bool:
    """Whether the article lost its capitals (only sentence-initial letters are upper case)."""
    mid_caps = total = 0
    for s in doc.sentences[:40]:
        words = s.text.split()[1:]
        total += len(words)
        mid_caps += sum(1 for w in words if w[:1].isupper())
    return total > 50 and mid_caps / total < 0.02


def _cased_names(text: str) -> list[str]:
    out = []
    for m in _CASED_NAME_RE.finditer(text):
        words = m.group(0).split()
        titled = False
        while words and (
            words[0].lower().rstrip(".") in _NOT_NAME_WORDS
            or words[0].lower().rstrip(".") in _TITLE_WORDS
            or (len(words) > 2 and re.fullmatch(r"[A-Z][a-z]+(?:an|ish|ese|i)", words[0]))
        ):
            titled = titled or bool(re.fullmatch(_TITLES, words[0]))
            words = words[1:]
        if len(words) >= 2 or (words and re.fullmatch(_TITLES, words[0])):
            if not any(w.lower() in _NOT_NAME_WORDS for w in words[1:]):
                out.append(" ".join(words))
        elif titled and len(words) == 1:
            out.append(m.group(0))  # "Mr Smith": a surname with its title names a person
    return out


_LOWER_WHO_RE = re.compile(r"^([A-Z][a-z'-]+ [a-z][a-z'-]+),\s+(?:who|whose|the|a|an)\b")


def _lower_names(text: str) -> list[str]:
    names = [m.group(1) for m in _LOWER_AGE_RE.finditer(text)]
    names += [m.group(1) for m in _LOWER_WHO_RE.finditer(text)]
    names += [m.group(2) for m in _LOWER_SAID_RE.finditer(text)]
    out = []
    for n in names:
        words = n.split()
        if words and words[0].lower() in _NOT_NAME_WORDS:
            continue
        if any(w in ("police", "officials", "he", "she", "they", "spokesman", "spokeswoman", "source") for w in words):
            continue
        out.append(" ".join(w[:1].upper() + w[1:] for w in words))
    return out


def _same_person(a: str, b: str) -> bool:
    """"Erdogan" and "Recep Tayyip Erdogan", or "Mr Smith" and "Phil Smith", name one person;
    "Phil Smith" and "Nick Smith" name two (a father and son share a surname)."""
    la = [w for w in a.lower().replace(".", "").split() if w not in _TITLE_WORDS] or a.lower().split()
    lb = [w for w in b.lower().replace(".", "").split() if w not in _TITLE_WORDS] or b.lower().split()
    return set(la) <= set(lb) or set(lb) <= set(la)


_HE = re.compile(r"\b(?:he|him|his|himself)\b", re.IGNORECASE)
_SHE = re.compile(r"\b(?:she|her|hers|herself)\b", re.IGNORECASE)


def _gender_agrees(sentences: Sequence[Span], person: str, text: str) -> bool:
    """False when the article's pronouns next to ``person`` are of the other gender."""
    surname = re.compile(rf"\b{re.escape(person.split()[-1])}\b", re.IGNORECASE)
    he = she = 0
    for i, s in enumerate(sentences):
        if surname.search(s.text):
            window = " ".join(x.text for x in sentences[i : i + 2])
            he += len(_HE.findall(window))
            she += len(_SHE.findall(window))
    first = text.split(None, 1)[0].lower() if text.split() else ""
    wants_he = first in ("he", "his", "him")
    if wants_he:
        return he >= she
    return she >= he


_ACRONYMS = {a.lower().replace(".", ""): a for a in
             "CNN BBC NBC CBS ABC NFL NBA NHL MLB FBI CIA NSA NHS ISIS UN EU US UK USA NASA FIFA UEFA MP MPs "
             "TV GP PGA ATP WTA NATO LAPD NYPD CEO".split()}
_ACRONYM_RE = re.compile(r"\b(" + "|".join(_ACRONYMS) + r")\b")


def is_lowercased(doc: Document) -> bool:
    """Whether the article lost its capitals (only sentence-initial letters are upper case)."""
    return _is_lowercased(doc)


def recase(doc: Document, text: str) -> str:
    """For a lower-cased article: names it introduces ("eva chapin, 34,") and common acronyms
    ("cnn", "fbi") get their capitals back in ``text``. Other words are left as they are."""
    names = {n for s in doc.sentences for n in _lower_names(s.text) if len(n.split()) >= 2}
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name.lower())}\b", name, text, flags=re.IGNORECASE)
        for part in name.split():
            if len(part) > 3 and part.lower() not in _NOT_NAME_WORDS:
                text = re.sub(rf"(?<=\s){re.escape(part.lower())}\b", part, text)
    return _ACRONYM_RE.sub(lambda m: _ACRONYMS[m.group(1)], text)


def find_referent(doc: Document, sentence: Span, *, lookback: int = 3) -> str | None:
    """The person a leading "he"/"she" in ``sentence`` refers to, when the article makes it clear.

    Clear means: the nearest preceding sentence (up to ``lookback`` back) that names anyone
    names exactly one person (counting "Erdogan" and "Recep Tayyip Erdogan" as one). The
    longest form of that name seen in the article so far is returned.
    """
    sentences = doc.sentences
    try:
        idx = next(i for i, s in enumerate(sentences) if s.start == sentence.start)
    except StopIteration:
        return None
    if _is_lowercased(doc):
        # No capitals to go by: names the article introduces by pattern anywhere ("eva chapin,
        # 34, ..."), then found by their surname in the sentences before this one.
        # In article order, so that the same article always gives the same bullet.
        known = list(dict.fromkeys(n for s in sentences for n in _lower_names(s.text)))

        def finder(text: str) -> list[str]:
            # A full name in the sentence is who it names; a bare surname names every known
            # person with that surname (two of them make the sentence ambiguous).
            low = text.lower()
            full = [n for n in known if re.search(rf"\b{re.escape(n.lower())}\b", low)]
            return full or [n for n in known if re.search(rf"\b{re.escape(n.split()[-1].lower())}\b", low)]
    else:
        finder = _cased_names
    for j in range(idx - 1, max(idx - 1 - lookback, -1), -1):
        names = finder(sentences[j].text)
        if not names:
            continue
        people: list[str] = []
        for n in names:
            for k, p in enumerate(people):
                if _same_person(n, p):
                    if len(n) > len(p):
                        people[k] = n
                    break
            else:
                people.append(n)
        if len(people) != 1:
            return None
        person = people[0]
        if not _gender_agrees(sentences, person, sentence.text):
            return None
        # The fullest form of the name used earlier in the article; "Mr Smith" is not made
        # "Phil Smith" when the article also has a Nick Smith.
        fuller = [n for s in sentences[: idx] for n in finder(s.text) if _same_person(n, person) and len(n) > len(person)]
        if any(not _same_person(a, b) for a in fuller for b in fuller):
            return None
        for n in fuller:
            if len(n) > len(person):
                person = n
        return re.sub(rf"^{_TITLES}\s+", "", person) if len(person.split()) > 2 else person
    return None


def make_standalone(doc: Document, sentence: Span, text: str | None = None) -> Standalone:
    """``sentence`` (or its cleaned ``text``) as a bullet that stands alone, or why it cannot."""
    original = clean_sentence(sentence.text if text is None else text)
    out = drop_connective(original)
    fm = _FIRST_WORD_RE.match(out)
    first = fm.group(1).lower() if fm else ""
    if first in _PERSON_PRONOUNS:
        assert fm is not None  # ``first`` is a pronoun, so the first word matched
        name = find_referent(doc, sentence)
        if name is None:
            return Standalone(None, f"starts with {fm.group(1)!r} and the article does not make clear who that is")
        word_end = fm.end(1)
        suffix = _PERSON_PRONOUNS[first]
        if first == "her":
            # "Her" is possessive before a noun ("Her husband ...") and an object otherwise.
            suffix = "'s"
        out = name + suffix + out[word_end:]
    reason = dangling_start(out)
    if reason is not None:
        return Standalone(None, f"starts with {reason!r}, which leans on the sentence before it")
    speech = unattributed_speech(out)
    if speech is not None:
        return Standalone(None, f"says {speech!r} without saying who is speaking")
    return Standalone(out, changed=out != original)


# -- shortening --------------------------------------------------------------------------
# An embedded relative / appositive clause: ", who ... ," / ", which ... ,".
_RELATIVE_RE = re.compile(r",\s+(?:who|which|whose|whom|where)\b[^,;]{3,}?,\s+", re.IGNORECASE)
# A trailing subordinate clause: cut from the comma before the connective to the end. Not ", but"
# or ", and": what follows them is a main clause, often the news itself.
_TRAILING_RE = re.compile(
    r",\s+(?:which|who|whose|where|while|whereas|although|though|as|after|before|when|because|since|"
    r"despite|amid|including|according to|with|without|saying|adding|claiming|leaving|making|"
    r"prompting|sparking|meaning|following)\b",
    re.IGNORECASE,
)
# A leading adverbial clause: "After the vote on Tuesday, ..." -> "...".
_LEADING_RE = re.compile(
    r"^(?:after|before|when|while|although|though|despite|since|as|following|during|in|on|at|"
    r"according to|speaking)\b[^,]{3,60},\s+(?=[a-z])",
    re.IGNORECASE,
)
_MIN_WORDS = 6


def _tidy(text: str) -> str:
    text = re.sub(r"\s+([,.;:!?])", r"\1", " ".join(text.split())).strip(" ,;:-")
    if text and text[-1] not in ".!?\"'”’":
        text += "."
    return _capitalise(text)


def shorter_forms(text: str, *, min_words: int = _MIN_WORDS) -> list[str]:
    """Shorter forms of a bullet made by dropping subordinate material, longest first.

    Each keeps the main clause; none is kept unless it passes the checker (the caller's job).
    """
    forms: list[str] = []

    def add(candidate: str) -> None:
        candidate = _tidy(candidate)
        if len(candidate.split()) >= min_words and candidate != _tidy(text) and candidate not in forms:
            forms.append(candidate)

    body = text
    for m in _RELATIVE_RE.finditer(body):
        add(body[: m.start()] + " " + body[m.end():])
    lead = _LEADING_RE.match(body)
    if lead:
        add(body[lead.end():])
    for m in _TRAILING_RE.finditer(body):
        head = body[: m.start()]
        if len(head.split()) >= min_words:
            add(head)
    # Combinations: leading clause dropped, then the first trailing cut.
    if lead := _LEADING_RE.match(body):
        rest = body[lead.end():]
        t = _TRAILING_RE.search(rest)
        if t and len(rest[: t.start()].split()) >= min_words:
            add(rest[: t.start()])
    forms.sort(key=lambda f: -len(f))
    return forms


def words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def redundant(a: str, b: str, *, overlap: float = 0.6) -> bool:
    """Whether bullets ``a`` and ``b`` mostly say the same thing (content-word containment)."""
    from ..evidence import content_words

    wa, wb = set(content_words(a)), set(content_words(b))
    if not wa or not wb:
        return False
    return len(wa & wb) / min(len(wa), len(wb)) >= overlap
