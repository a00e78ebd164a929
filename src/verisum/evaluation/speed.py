"""``verisum bench``: latency, throughput, memory and cold start of a Checker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import VerisumError

def bench_article(words: int = 500) -> tuple[str, list[str]]:
    """A ~``words``-word article built from the packaged example (its sentences, repeated with
    numbered variations), and 3 highlights: two reworded from it and one with an invented
    clause, as in the seed."""
    from ..document import Document

    from ..resources import EXAMPLES_DIR

    path = EXAMPLES_DIR / "article.txt"
    text = path.read_text(encoding="utf-8")
    body = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(("- ", "* ", "• "))]
    doc = Document("\n".join(body[1:]))
    sents = [s.text for s in doc.sentences]
    out: list[str] = [body[0]]
    n, k = len(body[0].split()), 0
    while n + k < words:  # each sentence gets a one-word tag in ``_rotate``
        s = sents[k % len(sents)]
        if k >= len(sents):
            s = f"In update {k // len(sents)}, {s[0].lower()}{s[1:]}"
        out.append(s)
        n += len(s.split())
        k += 1
    # Reworded (an attribution added), so that no highlight takes the Checker's verbatim
    # shortcut; the invented clause makes the judge run, as it does for any claim the evidence
    # features do not support.
    highlights = [f"{s.rstrip('.')}, officials said." for s in (sents[0], sents[2])]
    highlights.append(f"{sents[len(sents) // 2].rstrip('.')}, delighting tourists from abroad.")
    return out[0] + "\n" + " ".join(out[1:]), highlights


def rotate_article(article: str, k: int) -> str:
    """Variant ``k`` of the bench article: its sentences rotated and every one reworded, so no
    sentence of it was seen before and the retriever's embedding cache cannot help."""
    from ..document import split_sentences

    spans = split_sentences(article)
    sents = [article[a:b] for a, b in spans]
    r = k % max(len(sents) - 1, 1)
    body = sents[1 + r :] + sents[1 : 1 + r]
    return " ".join(f"({k}.{i}) {s}" for i, s in enumerate(body))


def _rss_mb() -> float:
    """Peak resident memory of this process in MB; 0.0 where the ``resource`` module (Unix) is absent."""
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0  # macOS: bytes; Linux: KiB


def bench(
    checker_factory: Callable[[], Any],
    *,
    runs: int = 30,
    records: int = 2000,
    batch_size: int = 16,
    cold_start: bool = True,
    threads: int | None = None,
    long_words: int = 50_000,
    judge_params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Speed figures: single-check latency, batch throughput, peak RSS, process cold start.
    ``judge_params`` are the embedded judge's (``model_dir``: which model), for the cold start
    in a new process; ``checker_factory`` builds the same Checker here."""
    result: dict[str, Any] = {"cpu_count": os.cpu_count()}
    if cold_start:
        params = {**(judge_params or {}), "intra_op_num_threads": threads}
        code = (
            "import time; t=time.perf_counter(); import verisum; "
            f"c=verisum.Checker(judge_params={params!r}); c.load(); "
            "c.check('The mayor opened the bridge on Monday.', 'The mayor opened the bridge.'); "
            "print(time.perf_counter()-t)"
        )
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise VerisumError(f"cold-start run failed: {proc.stderr.strip().splitlines()[-1:]}")
        result["cold_start_s"] = round(wall, 3)
        result["cold_start_in_process_s"] = round(float(proc.stdout.strip().splitlines()[-1]), 3)
    t0 = time.perf_counter()
    checker = checker_factory()
    checker.load()
    result["load_s"] = round(time.perf_counter() - t0, 3)
    result["premises"] = getattr(checker, "premises", None)  # what each claim was judged against
    article, highlights = bench_article()
    result["article_words"] = len(rotate_article(article, 1).split())
    result["highlights"] = len(highlights)
    checker.check(article, highlights)  # warm-up
    lat, cpu = [], []
    for i in range(runs):
        src = rotate_article(article, i + 1)  # a new text each time: no cache hits
        t, c = time.perf_counter(), time.process_time()
        checker.check(src, highlights)
        lat.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    result["latency_median_ms"] = round(1000 * float(np.median(lat)), 1)
    result["latency_p90_ms"] = round(1000 * float(np.percentile(lat, 90)), 1)
    # CPU seconds used (all threads): on a busy machine, what the check costs without the wait.
    result["latency_cpu_median_ms"] = round(1000 * float(np.median(cpu)), 1)
    result["latency_runs"] = runs
    if records:
        from ..records import Record, RecordError

        items = [Record(str(i), rotate_article(article, runs + 1 + i), highlights) for i in range(records)]
        t, c = time.perf_counter(), time.process_time()
        n_sent = errors = 0
        for item in checker.check_many(items, batch_size=batch_size):
            if isinstance(item, RecordError):
                errors += 1
            else:
                n_sent += len(item.sentences)
        dt = time.perf_counter() - t
        dc = time.process_time() - c
        result["batch_cpu_seconds"] = round(dc, 2)
        result["batch_sentences_per_cpu_s"] = round(n_sent / max(dc, 1e-9), 1)
        result["batch_records"] = records
        result["batch_seconds"] = round(dt, 2)
        result["batch_sentences_per_s"] = round(n_sent / dt, 1)
        result["batch_errors"] = errors
    result["peak_rss_mb"] = round(_rss_mb(), 1)
    if long_words:
        # Last, so the high-water mark it leaves is its own: the whole source is read, in blocks.
        parts, n, k = [], 0, 0
        while n < long_words:
            s = rotate_article(article, k)
            parts.append(s)
            n += len(s.split())
            k += 1
        long_source = "\n".join(parts)
        t = time.perf_counter()
        res = checker.check(long_source, highlights)
        result["long_source_words"] = len(long_source.split())
        result["long_source_sentences"] = len(res.source.sentences)
        result["long_source_seconds"] = round(time.perf_counter() - t, 2)
        result["peak_rss_after_long_source_mb"] = round(_rss_mb(), 1)
    try:
        result["load_average_1m"] = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    return result


def format_bench(r: Mapping[str, Any]) -> str:
    rows = [
        ("500-word article + 3 highlights, median", f"{r.get('latency_median_ms')} ms"),
        ("500-word article + 3 highlights, p90", f"{r.get('latency_p90_ms')} ms"),
    ]
    if "batch_sentences_per_s" in r:
        rows.append((f"batch of {r['batch_records']} records", f"{r['batch_sentences_per_s']} summary sentences/s"))
    if "latency_cpu_median_ms" in r:
        rows.append(("  CPU time per check, median (all threads)", f"{r['latency_cpu_median_ms']} ms"))
    if "batch_sentences_per_cpu_s" in r:
        rows.append(("  batch, per CPU second", f"{r['batch_sentences_per_cpu_s']} summary sentences"))
    rows.append(("peak RSS", f"{r.get('peak_rss_mb')} MB"))
    if "long_source_words" in r:
        rows.append((f"{r['long_source_words']:,}-word source + 3 highlights, checked in full",
                     f"{r['long_source_seconds']} s, peak RSS then {r['peak_rss_after_long_source_mb']} MB"))
    if "cold_start_s" in r:
        rows.append(("cold start (new process: import + load + one check)", f"{r['cold_start_s']} s"))
    rows.append(("model load in this process", f"{r.get('load_s')} s"))
    if r.get("premises"):
        rows.append(("premises (what each claim is judged against)", str(r["premises"])))
    width = max(len(a) for a, _ in rows)
    return "\n".join(f"{a:<{width}}  {b}" for a, b in rows) + (
        f"\n(cpu_count={r.get('cpu_count')}, 1-minute load average {r.get('load_average_1m')})"
    )
