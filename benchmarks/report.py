"""How long `verisum report` takes on 100,000 results, and how big the page is.

    python benchmarks/report.py [--lines 100000] [--runs 3] [--keep DIR]

Writes N synthetic result lines in the exact shape `verisum check --jsonl` writes (a source of
about 2,000 characters, three summary sentences of one or two claims, three evidence sentences
each, words at fault on the claims that are not supported; 3% error rows and 0.5% unreadable
lines), and an input-records file with a system (30 of them), a human label and, for a tenth of
the records, an error type. Then times the whole command, as a user runs it:

    verisum report results.jsonl --records records.jsonl --by system -o report.html

(median of --runs, a fresh process each) and prints the time, the peak RSS and the page's size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("council budget harbour school mayor taxes percent members debate plan river bridge station "
         "energy farm panels homes fishermen survey nesting pairs water reservoir climate fund euros").split()


def _sentence(rng: random.Random, n: int = 16) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def result_line(i: int, rng: random.Random) -> dict:
    sources = [_sentence(rng, rng.randint(14, 24)) for _ in range(14)]
    source = " ".join(sources)
    starts = []
    pos = 0
    for s in sources:
        starts.append((pos, pos + len(s), s))
        pos += len(s) + 1
    bullets = [_sentence(rng, rng.randint(8, 16)) for _ in range(3)]
    summary = "\n".join(f"- {b}" for b in bullets)
    sentences = []
    at = 0
    labels = []
    for b in bullets:
        start = summary.index(b, at)
        at = start + len(b)
        label = rng.choices(["supported", "unsupported", "contradicted"], [0.8, 0.12, 0.08])[0]
        labels.append(label)
        score = rng.uniform(0.55, 1.0) if label == "supported" else rng.uniform(0.0, 0.5)
        cut = start + b.index(" ", len(b) // 2)
        claims = []
        for cs, ce in ((start, cut), (cut + 1, at)) if rng.random() < 0.5 else ((start, at),):
            text = summary[cs:ce]
            faults = []
            if label != "supported":
                w = text.split()[-2]
                fs = summary.index(w, cs)
                faults.append({"start": fs, "end": fs + len(w), "text": w})
            ev = [{"start": s, "end": e, "text": t, "score": round(rng.random(), 4)} for s, e, t in rng.sample(starts, 3)]
            claims.append({"start": cs, "end": ce, "text": text, "hypothesis": text, "label": label,
                           "score": score, "probs": {"supported": score, "contradicted": (1 - score) / 2,
                                                     "unsupported": (1 - score) / 2},
                           "faults": faults, "evidence": ev, "truncated": False, "rationale": None})
        sentences.append({"start": start, "end": at, "text": b, "label": label, "score": score, "claims": claims})
    worst = "contradicted" if "contradicted" in labels else "unsupported" if "unsupported" in labels else "supported"
    return {"schema_version": 1, "id": f"r{i:06d}", "label": worst,
            "score": sum(s["score"] for s in sentences) / len(sentences), "threshold": 0.5157,
            "source": source, "summary": summary, "sentences": sentences,
            "meta": {"verisum": "0.1.0", "seconds": 0.05, "truncated": False}}


def write_inputs(folder: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    rng = random.Random(seed)
    results, records = folder / "results.jsonl", folder / "records.jsonl"
    with results.open("w", encoding="utf-8") as out, records.open("w", encoding="utf-8") as rec:
        for i in range(n):
            r = rng.random()
            if r < 0.005:
                out.write("{not a result\n")
                continue
            if r < 0.035:
                out.write(json.dumps({"ok": False, "error": f"line {i + 1}: \"summary\" is empty", "errors": [],
                                      "status": 422, "code": "empty_input", "id": f"r{i:06d}", "line": i + 1}) + "\n")
                continue
            line = result_line(i, rng)
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            extra = {"error_type": rng.choice(["entity", "number", "negation", "invented"])} if rng.random() < 0.1 else {}
            rec.write(json.dumps({"id": line["id"], "system": f"system-{rng.randrange(30):02d}",
                                  "label": int(line["label"] == "supported" or rng.random() < 0.1), **extra}) + "\n")
    return results, records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", default=None, help="write the inputs and the page here (default: a temp folder)")
    a = ap.parse_args()
    folder = Path(a.keep or tempfile.mkdtemp(prefix="verisum-report-"))
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results, records = write_inputs(folder, a.lines)
    print(f"wrote {a.lines:,} lines ({results.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)
    page = folder / "report.html"
    cmd = [sys.executable, "-m", "verisum", "report", str(results), "--records", str(records), "--by", "system",
           "-o", str(page)]
    times = []
    for _ in range(a.runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"lines": a.lines, "input_mb": round(results.stat().st_size / 1e6, 1),
                      "seconds_median": round(statistics.median(times), 2), "seconds": [round(t, 2) for t in times],
                      "peak_rss_mb": round(rss), "page_mb": round(page.stat().st_size / 1e6, 2),
                      "cpus": os.cpu_count()}, indent=1))


if __name__ == "__main__":
    main()
