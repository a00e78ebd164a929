"""The generator: an article's sentences -> labelled (premise, claim) pairs."""

from __future__ import annotations

import random
import re
from collections import defaultdict

from .words import ENT_RE, content_set, entities, overlap, recall
from .transforms import COMPRESSIONS, MAX_CLAIM_WORDS, MAX_PREMISE_WORDS, append_clause, c_antonym, c_discourse, c_negation, c_number, cap, decap, end, good_sentence, insert_circumstance, norm_space, swap_agents, swap_entity, t_clause_cut, t_drop_attribution, t_drop_paren, t_drop_trailing, t_number_format, t_reorder_attribution, TEMPLATES
from .pools import Pools


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


def wchoice(rng, items):
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
            kind = wchoice(rng, [("verbatim", 15), ("compress", 45), ("clause", 15), ("reorder", 8),
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
                    out = norm_space(r)
                    n += 1
                    if rng.random() < 0.6:
                        break
            return (out, "compress") if n else None
        if kind == "clause":
            r = t_clause_cut(s)
            return (norm_space(r), "clause") if r else None
        if kind == "reorder":
            r = t_reorder_attribution(s)
            return (norm_space(r), "reorder") if r else None
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
        b = decap(b)
        conj = rng.choice([", and ", " and ", ", while ", "; ", ", and ", ". "])
        if conj == ". ":
            b = cap(b)
        return end(norm_space(a + conj + b))

    # --- main per-sentence routine ----------------------------------------
    def make(self, art: Article, i: int, rng: random.Random, label: str):
        kinds = KIND_WEIGHTS[label]
        tried = set()
        for _ in range(4):
            k = wchoice(rng, [(a, w) for a, w in kinds if a not in tried])
            if tried and k == "verbatim":
                tried.add(k)
                continue
            tried.add(k)
            r = getattr(self, "k_" + k)(art, i, rng)
            if r:
                prem, claim = r
                claim = norm_space(claim)
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


