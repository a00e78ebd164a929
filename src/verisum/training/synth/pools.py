"""Pools of material from other articles: trailing clauses, noun phrases, places."""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict

from .words import content_set, entities
from .transforms import good_sentence


# ---------------------------------------------------------------------------
# pools from other articles (for unsupported material)
# ---------------------------------------------------------------------------
TRAIL_RE = re.compile(
    r",\s+((?:amid|as|after|while|following|despite|in a bid to|which|with|a move that|highlighting|"
    r"raising|underlining|prompting|fuelling|fueling|citing|ahead of)\s[^,;()\"]{12,80})\.$")
NP_RE = re.compile(r"\b(the (?:[a-z]+ ){0,2}(?:of|over|for|about) (?:the )?[a-z]+(?: [a-z]+)?)\b")


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


