"""What the checker says on a fixed sample, as plain JSON: the seed, the shipped example, and the
first records of every bench-dev set (ids and results only; the data stay outside the project).

    python tests/support/behaviour.py --write tests/snapshots/behaviour.json

``tests/test_behaviour.py`` compares the current checker with the snapshot, so a refactor that
is meant to change nothing is shown to change nothing (verdicts, scores to 1e-6, faults)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent.parent / "shared"
SETS = ("frank", "polytope", "cliff", "summedits", "goyal21", "cao22_entfa", "xsumfaith", "cogensumm_sentpairs")
PER_SET = 4


def sample() -> list[tuple[str, str, Any]]:
    """(key, source, summary) of the sample; bench-dev records only where ../shared is present."""
    from verisum.io import split_seed

    items = []
    example = Path(__import__("verisum").__file__).parent / "examples" / "article.txt"
    seed = split_seed(example.read_text(encoding="utf-8"))
    items.append(("example", seed.source, seed.summary))
    seed_file = SHARED / "seed" / "000_1f70528139c8721f.txt"
    if seed_file.is_file():
        s = split_seed(seed_file.read_text(encoding="utf-8"))
        items.append(("seed", s.source, s.summary))
    for name in SETS:
        path = SHARED / "data" / "bench-dev" / f"{name}.jsonl"
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as fh:
            for _, line in zip(range(PER_SET), fh):
                obj = json.loads(line)
                items.append((f"{name}/{obj['id']}", obj["doc"], obj["summary"]))
    return items


def behaviour(checker: Any, items: list[tuple[str, str, Any]]) -> dict[str, Any]:
    out = {}
    for key, source, summary in items:
        r = checker.check(source, summary)
        out[key] = {
            "label": str(r.label.value if hasattr(r.label, "value") else r.label),
            "score": round(float(r.score), 6),
            "sentences": [
                {"label": str(s.label.value if hasattr(s.label, "value") else s.label),
                 "score": round(float(s.score), 6),
                 "faults": [[f.start, f.end] for f in s.faults]}
                for s in r.sentences
            ],
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", type=Path, required=True)
    args = ap.parse_args()
    from verisum.checker import Checker

    args.write.write_text(json.dumps(behaviour(Checker(), sample()), indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
