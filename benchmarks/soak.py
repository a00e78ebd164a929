"""Soak benchmark for ``verisum serve`` with hostile requests mixed in (a command, not a test).

Starts the server (``verisum serve`` in a subprocess, the shipped model, an API token and a
1 MB body limit), records every good request's result alone, then runs N concurrent clients
for T seconds. About 5% of the requests are hostile: a lone surrogate, JSON nested 3,000 deep,
a body over the limit, a wrong token, malformed JSON. It checks what issue 11 asks:

* every good request is answered 200 with the same result as alone (scores equal to 1e-9, the
  timing in ``meta`` aside);
* every hostile one gets its documented 4xx (422 surrogate / malformed, 400 nesting, 413 over
  the limit, 401 token) with the one error envelope;
* no 5xx; memory flat: the server's RSS at the end within 10% of its RSS after the warm-up.

    python benchmarks/soak.py                              # 16 clients, 300 s (the README figures)
    python benchmarks/soak.py --clients 4 --duration 20    # a quick look

Exit code 0 when every condition holds, 1 otherwise.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import ARTICLE, BULLETS, _free_port, start_server, stop_server, wait_ready  # noqa: E402

TOKEN = "soak-token"
MAX_BODY = 1_000_000

#: Good requests: the article with different summaries (a few sentences each).
GOOD = [
    {"id": f"good-{i}", "doc": ARTICLE, "summary": summary}
    for i, summary in enumerate([
        BULLETS,
        BULLETS[:1],
        [BULLETS[2]],
        ["Shop owners on Market Street said the works had cost them customers.",
         "The city paid 2.1 million euros in compensation to 86 businesses."],
        ["The tram line cost 265 million euros.", "The mayor did not ride the first car."],
        "The city plans a second line, to the airport.\nA decision is expected next spring.",
    ])
]

#: kind -> (body bytes, headers override, expected status)
HOSTILE: dict[str, tuple[bytes, dict[str, str] | None, int]] = {
    "surrogate": (b'{"doc": "The council \\ud800 met.", "summary": "It met."}', None, 422),
    "nesting": (b"[" * 3000, None, 400),
    "oversize": (json.dumps({"doc": "word " * (MAX_BODY // 5 + 10), "summary": "A word."}).encode(), None, 413),
    "bad_token": (json.dumps(GOOD[1]).encode(), {"Authorization": "Bearer wrong"}, 401),
    "malformed": (b'{"doc": "An article.", "summary": ', None, 422),
}


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    out["meta"] = {k: v for k, v in body.get("meta", {}).items() if k != "seconds"}
    return out


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def rss_mb(pid: int) -> float:
    """Resident memory of the server and its children (the uvicorn worker), in MB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


async def soak(url: str, clients: int, duration: float, hostile_share: float, warmup: float, pid: int | None,
               seed: int) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(120.0, connect=5.0), limits=limits) as client:
        reference = {}
        for g in GOOD:  # each good request alone, before the load
            r = await client.post("/v1/check", json=g, headers=auth)
            r.raise_for_status()
            reference[g["id"]] = comparable(r.json())
        stats: dict[str, Any] = {"good": 0, "good_mismatch": 0, "good_not_200": 0, "hostile": 0,
                                 "hostile_wrong_status": 0, "5xx": 0, "transport_errors": 0,
                                 "by_kind": {k: 0 for k in HOSTILE}, "latencies": []}
        t0 = time.monotonic()
        rss: dict[str, float] = {}

        async def sample_memory() -> None:
            if pid is None:
                return
            await asyncio.sleep(warmup)
            rss["after_warmup_mb"] = rss_mb(pid)
            while time.monotonic() - t0 < duration:
                await asyncio.sleep(1.0)
            rss["end_mb"] = rss_mb(pid)

        async def worker(k: int) -> None:
            rng = random.Random(seed * 1000 + k)
            while time.monotonic() - t0 < duration:
                started = time.perf_counter()
                kind = "good"
                try:
                    if rng.random() < hostile_share:
                        kind = rng.choice(list(HOSTILE))
                        body, headers, want = HOSTILE[kind]
                        r = await client.post("/v1/check", content=body, headers={**auth, **(headers or {})})
                        stats["hostile"] += 1
                        stats["by_kind"][kind] += 1
                        ok = r.status_code == want and r.json().get("ok") is False and r.json().get("status") == want
                        if not ok:
                            stats["hostile_wrong_status"] += 1
                            print(f"hostile {kind}: {r.status_code} {r.text[:200]}", file=sys.stderr)
                    else:
                        g = rng.choice(GOOD)
                        r = await client.post("/v1/check", json=g, headers=auth)
                        stats["good"] += 1
                        if r.status_code != 200:
                            stats["good_not_200"] += 1
                            print(f"good {g['id']}: {r.status_code} {r.text[:200]}", file=sys.stderr)
                        elif not same(comparable(r.json()), reference[g["id"]]):
                            stats["good_mismatch"] += 1
                        stats["latencies"].append(time.perf_counter() - started)
                    if r.status_code >= 500:
                        stats["5xx"] += 1
                except httpx.HTTPError as exc:
                    stats["transport_errors"] += 1
                    print(f"transport error ({kind}): {type(exc).__name__}: {exc}", file=sys.stderr)

        await asyncio.gather(sample_memory(), *(worker(k) for k in range(clients)))
    lat = sorted(stats.pop("latencies"))
    stats["seconds"] = round(time.monotonic() - t0, 1)
    stats["good_per_s"] = round(stats["good"] / max(stats["seconds"], 1e-9), 2)
    stats["good_p50_ms"] = round(1000 * lat[len(lat) // 2], 1) if lat else None
    stats["good_p99_ms"] = round(1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1) if lat else None
    stats.update(rss)
    if "after_warmup_mb" in rss and "end_mb" in rss:
        stats["rss_growth"] = round(rss["end_mb"] / rss["after_warmup_mb"] - 1.0, 4)
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    ap.add_argument("--hostile", type=float, default=0.05, help="share of hostile requests")
    ap.add_argument("--warmup", type=float, default=30.0, help="seconds before the first memory reading")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="also write the figures here")
    a = ap.parse_args(argv)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env_before = dict(os.environ)
    os.environ.update({"VERISUM_API_TOKEN": TOKEN, "VERISUM_MAX_BODY_BYTES": str(MAX_BODY)})
    proc = start_server(port, [])
    os.environ.clear()
    os.environ.update(env_before)
    try:
        wait_ready(url, proc)
        stats = asyncio.run(soak(url, a.clients, a.duration, a.hostile, min(a.warmup, a.duration / 2), proc.pid, a.seed))
    finally:
        stop_server(proc)
    stats.update({"clients": a.clients, "duration": a.duration, "hostile_share": a.hostile})
    print(json.dumps(stats, indent=2))
    if a.json:
        Path(a.json).write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    ok = (stats["good_mismatch"] == 0 and stats["good_not_200"] == 0 and stats["hostile_wrong_status"] == 0
          and stats["5xx"] == 0 and stats["transport_errors"] == 0 and stats.get("rss_growth", 0.0) <= 0.10)
    print("soak: " + ("every condition holds" if ok else "FAILED"), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
