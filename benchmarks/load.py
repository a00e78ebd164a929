"""Load benchmark for ``verisum serve`` (a command, not a test).

Starts the server (``verisum serve`` in a subprocess, real default model unless told
otherwise), then runs N concurrent clients from 127.0.0.1 for T seconds, each posting a
500-word article with 3 bullets to /v1/check in a loop, and reports requests per second,
latency percentiles and the error count. Target on a 2-core machine: 16 clients for 60 s,
0 errors, p99 under 2 s.

Every request carries a variant of the article that no earlier request had (each paragraph
tagged with the request's number), so the server's embedding cache cannot answer for the model:
each request costs what a new story costs. ``--same-article`` sends the article unchanged every
time instead (an editor re-checking one story; the cache then does most of the work).

    python benchmarks/load.py                            # 16 clients, 60 s, embedded model
    python benchmarks/load.py --clients 1 --duration 15  # single-request latency
    python benchmarks/load.py --url http://127.0.0.1:8000 # against a server already running
    python benchmarks/load.py --json load.json            # also write the figures as JSON
    python benchmarks/load.py --compare-batching 8        # in process: batched vs one at a time
    python benchmarks/load.py --same-article              # the same story every time (cache hits)

Needs the [serve] extra (httpx comes with verisum).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx

#: A made-up 500-word news article: the load is the model's work on a typical story.
ARTICLE = """City opens its first tram line in half a century
The city of Eastport opened its first tram line in more than fifty years on Saturday, when the mayor, Laura Jensen, rode the first car from the central station to the university campus. The 9.4-kilometre line has fourteen stops and cost 312 million euros, of which the national government paid about 40 percent, according to the city's transport department.
About 3,000 people gathered at the central station for the opening, and the first trams were full for most of the morning. The transport department expects 28,000 passengers a day by the end of next year, which would take roughly 9,000 car journeys off the roads each weekday. Trams will run every six minutes at peak times and every twelve minutes in the evening.
The line took four years to build, one year longer than planned. Construction was halted for five months in 2023 after workers found the remains of a medieval harbour wall under Market Street. Archaeologists documented the wall before it was covered again, and parts of it can now be seen through a glass panel in the pavement near the Market Street stop.
Shop owners on Market Street said the works had cost them customers. "We lost nearly a third of our trade while the street was closed," said Omar Haddad, who runs a bakery next to the new stop. He said he hoped the trams would bring more people to the street than before. The city paid 2.1 million euros in compensation to 86 businesses along the route.
The trams are built by a company in the north of the country and run on electricity from the city's own wind farm, the mayor said. Each car carries up to 220 passengers and has space for six bicycles and four wheelchairs. Tickets cost the same as bus tickets, and passengers can change between trams and buses within an hour without paying again.
Opposition councillors criticised the cost overruns. Councillor Peter Lund said the original budget had been 265 million euros and that the city had not explained why the final bill was 47 million euros higher. The transport department said most of the extra cost came from the archaeological delay and from higher steel prices.
The city plans a second line, to the airport, and hopes to start building it in 2027 if the national government agrees to pay part of the cost. A decision is expected next spring. Jensen said the first line showed that the city could deliver large projects. "People said we would never see trams in Eastport again, and today they are riding them," she said.
Residents near the depot in the western district have complained about noise from trams at night. The department said the last tram of the day would return to the depot before midnight and that sound barriers would be finished in the spring. It also promised to measure the noise every month and to publish the results on its website.
"""

#: Two bullets the article supports and one with an invented clause.
BULLETS = [
    "Eastport opened its first tram line in more than fifty years on Saturday.",
    "The 9.4-kilometre line cost 312 million euros, about 40 percent paid by the national government.",
    "Construction was halted for five months after workers found a medieval harbour wall, delighting tourists.",
]


def article_variant(n: int | None) -> str:
    """The article with every sentence tagged "(n.i)": text the server has not seen, the same
    words for the model (and one token-light tag a sentence). ``None``: the article itself."""
    if n is None:
        return ARTICLE
    i = 0

    def tag(m: re.Match) -> str:
        nonlocal i
        i += 1
        return f"{m.group(0)}({n}.{i}) "

    return re.sub(r"(?:^|(?<=[.!?\"”]) )", tag, ARTICLE.strip("\n"), flags=re.MULTILINE) + "\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, serve_args: list[str]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "verisum", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--log-level", "warning", *serve_args]
    print("starting:", " ".join(cmd[1:]), file=sys.stderr)
    return subprocess.Popen(cmd, start_new_session=True)


def wait_ready(url: str, proc: subprocess.Popen | None, timeout: float = 300.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} before it was ready")
        try:
            r = httpx.get(url + "/health", timeout=2.0)
            if r.status_code == 200 and r.json().get("ready"):
                return r.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"the server at {url} was not ready within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def run_load(url: str, clients: int, duration: float, headers: dict[str, str], *,
                   same_article: bool = False) -> dict[str, Any]:
    sent = 0
    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits, headers=headers) as http:
        started = time.perf_counter()
        deadline = started + duration

        async def client() -> None:
            nonlocal sent
            while time.perf_counter() < deadline:
                sent += 1
                body = {"doc": article_variant(None if same_article else sent), "summary": BULLETS}
                t0 = time.perf_counter()
                try:
                    r = await http.post("/v1/check", json=body)
                    ok = r.status_code == 200
                    key = None if ok else f"HTTP {r.status_code}: {r.json().get('error', '')[:80]}"
                except httpx.HTTPError as exc:
                    key = f"{type(exc).__name__}: {exc}"[:100]
                if key is None:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors[key] = errors.get(key, 0) + 1

        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
        health = (await http.get("/health")).json()

    lat = sorted(latencies)

    def pct(p: float) -> float | None:
        if not lat:
            return None
        return lat[min(len(lat) - 1, max(0, round(p / 100 * len(lat)) - 1))]

    n_err = sum(errors.values())
    batching = health.get("batching", {})
    return {
        "clients": clients,
        "duration_s": round(elapsed, 2),
        "requests_ok": len(lat),
        "errors": n_err,
        "error_kinds": errors,
        "requests_per_s": round(len(lat) / elapsed, 2),
        "p50_s": None if not lat else round(statistics.median(lat), 3),
        "p90_s": None if not lat else round(pct(90), 3),
        "p99_s": None if not lat else round(pct(99), 3),
        "max_s": None if not lat else round(lat[-1], 3),
        "batches": batching.get("batches"),
        "mean_batch": round(batching["requests"] / batching["batches"], 2) if batching.get("batches") else None,
        "largest_batch": batching.get("largest"),
    }


def compare_batching(n: int, reps: int = 3) -> int:
    """Seconds per request: ``Checker.check`` n times vs one ``check_many`` of n (what the server batches)."""
    from verisum.checker import Checker

    checker = Checker().load()
    record = {"doc": ARTICLE, "summary": BULLETS}
    checker.check(ARTICLE, BULLETS)  # warm
    single, batched = [], []
    for _ in range(reps):  # interleaved, so both see the same machine load
        t0 = time.perf_counter()
        for _ in range(n):
            checker.check(ARTICLE, BULLETS)
        single.append((time.perf_counter() - t0) / n)
        t0 = time.perf_counter()
        list(checker.check_many([record] * n, batch_size=n))
        batched.append((time.perf_counter() - t0) / n)
    print(f"{n} requests, {reps} rounds: one at a time {statistics.median(single):.3f} s/request, "
          f"batched {statistics.median(batched):.3f} s/request (medians)")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=16, help="concurrent clients [16]")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load after the warm-up [60]")
    ap.add_argument("--warmup", type=int, default=3, help="requests sent (and not counted) first [3]")
    ap.add_argument("--url", default=None, help="use a server already running here instead of starting one")
    ap.add_argument("--json", dest="json_out", default=None, metavar="PATH", help="also write the figures here")
    ap.add_argument("--same-article", action="store_true",
                    help="send the article unchanged every time (cache hits) instead of a new variant per request")
    ap.add_argument("--compare-batching", type=int, default=None, metavar="N",
                    help="instead of the load test: time N checks one at a time vs batched, in process")
    ap.add_argument("serve_args", nargs=argparse.REMAINDER,
                    help="after --: extra `verisum serve` flags, e.g. -- --backend hf --model DIR")
    args = ap.parse_args(argv)
    if args.clients < 1 or args.duration <= 0:
        ap.error("--clients must be >= 1 and --duration > 0")
    serve_args = [a for a in args.serve_args if a != "--"]
    if args.compare_batching is not None:
        return compare_batching(args.compare_batching)

    proc = None
    url = args.url
    if url is None:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start_server(port, serve_args)
    try:
        t0 = time.perf_counter()
        health = wait_ready(url, proc)
        ready_s = time.perf_counter() - t0
        token = os.environ.get("VERISUM_API_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        warm = None
        for k in range(max(args.warmup, 1)):
            body = {"doc": article_variant(None if args.same_article else -1 - k), "summary": BULLETS}
            r = httpx.post(url + "/v1/check", json=body, headers=headers, timeout=120)
            if r.status_code != 200:
                raise SystemExit(f"warm-up request failed: HTTP {r.status_code}: {r.text[:300]}")
            warm = r.json()
        labels = [s["label"] for s in warm["sentences"]]
        words = len(article_variant(1).split())
        print(f"server ready in {ready_s:.1f} s; judge {health.get('judge')}; article {words} words, "
              f"{len(BULLETS)} bullets -> {labels}", file=sys.stderr)
        what = "the same article every time" if args.same_article else "a new article variant per request"
        print(f"load: {args.clients} clients for {args.duration:.0f} s, {what} ...", file=sys.stderr)
        figures = asyncio.run(run_load(url, args.clients, args.duration, headers, same_article=args.same_article))
    finally:
        if proc is not None:
            stop_server(proc)

    figures.update({
        "judge": health.get("judge"),
        "article_words": len(article_variant(1).split()),
        "same_article": args.same_article,
        "bullets": len(BULLETS),
        "labels": labels,
        "cpus": os.cpu_count(),
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
    })
    print(f"clients={figures['clients']} duration={figures['duration_s']}s ok={figures['requests_ok']} "
          f"errors={figures['errors']} rps={figures['requests_per_s']} p50={figures['p50_s']}s "
          f"p90={figures['p90_s']}s p99={figures['p99_s']}s max={figures['max_s']}s "
          f"mean_batch={figures['mean_batch']} largest_batch={figures['largest_batch']}")
    if figures["error_kinds"]:
        for kind, n in figures["error_kinds"].items():
            print(f"  {n} x {kind}", file=sys.stderr)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, indent=2)
            fh.write("\n")
    return 0 if figures["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
