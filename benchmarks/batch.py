"""Batch throughput: `verisum check --jsonl` against `verisum batch check --engine ray` with
1 and 2 workers, on the same records, each a whole command timed from start to exit.

    python benchmarks/batch.py                       # 2,000 news records, 3 bullets each
    python benchmarks/batch.py --records 200 --runs 1

The records: published systems' summaries of CNN/DM and Newsroom stories
(../shared/data/news/system_outputs_dev.jsonl, joined with their articles), the first three
sentences of each as bullets. Each configuration runs on a fresh output folder; the machine
should be otherwise idle. Prints a Markdown table (records/s, and Ray's overhead against the
single process) and writes the raw timings as JSON with --json.

Two rates per configuration: the whole command (start-up included: a new process, for Ray also
starting a local Ray and its actor pool), and the marginal rate, (N - 10) / (T(N) - T(10)),
from a second run on the first 10 records: what each further record costs once the job runs,
which is what decides a job of millions of records.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from verisum.document import Document

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "news"


def make_records(data: Path, n: int, path: Path) -> int:
    articles = {}
    for name in ("cnndm_dev.jsonl", "newsroom_eval.jsonl"):
        for line in (data / name).open(encoding="utf-8"):
            obj = json.loads(line)
            articles[obj["id"]] = obj["article"]
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for line in (data / "system_outputs_dev.jsonl").open(encoding="utf-8"):
            obj = json.loads(line)
            sentences = obj.get("summary_sentences") or [s.text for s in Document(obj["summary"]).sentences]
            if len(sentences) < 3 or obj["id"] not in articles:
                continue
            out.write(json.dumps({"id": f"{obj['id']}/{obj['system']}", "doc": articles[obj["id"]],
                                  "summary": sentences[:3]}, ensure_ascii=False) + "\n")
            written += 1
            if written == n:
                break
    return written


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=1, help="runs of each configuration (the median is reported)")
    ap.add_argument("--json", type=Path, default=None, help="write the raw timings here")
    args = ap.parse_args()

    verisum = [sys.executable, "-m", "verisum"]
    cores = os.cpu_count() or 1
    configs = {
        "check --jsonl (one process)": lambda i, o: [*verisum, "check", "--jsonl", i, "-o", o],
        "batch --engine ray --workers 1": lambda i, o: [*verisum, "batch", "check", i, o, "--engine", "ray",
                                                         "--workers", "1", "--cpus-per-worker", str(cores)],
        "batch --engine ray --workers 2": lambda i, o: [*verisum, "batch", "check", i, o, "--engine", "ray",
                                                         "--workers", "2", "--cpus-per-worker", str(max(1, cores // 2))],
    }
    small = 10
    with tempfile.TemporaryDirectory() as tmp:
        records, few = Path(tmp) / "records.jsonl", Path(tmp) / "few.jsonl"
        n = make_records(args.data, args.records, records)
        few.write_text("".join(records.read_text(encoding="utf-8").splitlines(keepends=True)[:small]), encoding="utf-8")
        times: dict[str, list[float]] = {name: [] for name in configs}
        starts: dict[str, list[float]] = {name: [] for name in configs}
        for run in range(args.runs):
            for name, cmd in configs.items():
                for source, into in ((few, starts[name]), (records, times[name])):
                    out = Path(tmp) / f"out-{run}-{source.stem}-{name.split()[-1]}"
                    target = str(out) + (".jsonl" if "jsonl" in name else "")
                    into.append(timed(cmd(str(source), target)))
                print(f"{name}: {n / times[name][-1]:.2f} records/s ({times[name][-1]:.1f} s; "
                      f"{small} records: {starts[name][-1]:.1f} s)", file=sys.stderr)

    def marginal(name: str) -> float:
        return (n - small) / (statistics.median(times[name]) - statistics.median(starts[name]))

    base = "check --jsonl (one process)"
    whole0, marginal0 = statistics.median(times[base]), marginal(base)
    print(f"{n:,} records x 3 bullets, {cores} cores, median of {args.runs} run(s):\n")
    print("| configuration | whole command | records/s (whole) | start-up (10 records) | marginal records/s "
          "| marginal summary sentences/s | overhead against one process: whole / marginal |")
    print("|---|---|---|---|---|---|---|")
    for name, ts in times.items():
        whole, m = statistics.median(ts), marginal(name)
        print(f"| {name} | {whole:.1f} s | {n / whole:.2f} | {statistics.median(starts[name]):.1f} s | {m:.2f} "
              f"| {3 * m:.1f} | {100 * (whole / whole0 - 1):+.1f}% time / {100 * (marginal0 / m - 1):+.1f}% time |")
    if args.json:
        args.json.write_text(json.dumps({"records": n, "cores": cores, "seconds": times, "start_seconds": starts},
                                        indent=2))


if __name__ == "__main__":
    main()
