"""Loading the corpus and running the generator over it in worker processes; the entry point."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sys
import time
from collections import Counter

from .words import COMMON_LOWER, ENT_RE, split_sentences
from .pools import Pools
from .generator import Article, Generator, LABEL_WEIGHTS, wchoice
from .balance import balance


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
        from verisum.evaluation.labelled import split_of
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
                label = wchoice(rng, LABEL_WEIGHTS)
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
    ap.add_argument("--corpus", default=os.path.join("..", "shared", "data", "news", "corpus.jsonl"))
    ap.add_argument("--bench", default=os.path.join("..", "shared", "data", "bench-dev"))
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



