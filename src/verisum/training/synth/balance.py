"""Artefact control: equalise label proportions within strata of surface features."""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict


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

