"""The long fuzz run (a command, not a test): the property tests' boundaries, many more inputs.

Every boundary where text enters verisum gets generated inputs (tests/support/fuzzing.py:
article-like text with bullets, CRLF, emoji, lone surrogates, control characters and very long
words; JSONL lines, broken JSON, deep nesting and raw bytes; HTTP bodies) and must answer with a
result or a ``verisum.errors.VerisumError``, never another exception. The checker runs with the
deterministic stand-in judge (the pipeline around the model: retrieval, claims, features,
faults, aggregation) and, for a share of the inputs, with the shipped model.

    python benchmarks/fuzz.py                       # 100,000 inputs in all (about 10 minutes here)
    python benchmarks/fuzz.py --total 5000 --seed 1

Exit code 0 when no input raised anything outside verisum.errors; 1 otherwise (hypothesis
prints the smallest failing input).
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from conftest import FakeJudge  # noqa: E402
from support.fuzzing import clean_texts, lines, records, request_bodies, run_boundary, texts  # noqa: E402

#: target -> share of the inputs
SHARES = {"document": 0.14, "claims": 0.14, "readers": 0.14, "json": 0.14, "seed_form": 0.10,
          "check_fake": 0.22, "check_embedded": 0.02, "api": 0.10}


def targets() -> dict[str, tuple[Any, Callable[..., None]]]:
    from verisum.checker import Checker
    from verisum.claims import summary_claims
    from verisum.document import Document
    from verisum.io import split_seed
    from verisum.records import iter_lines, loads_json, read_records

    fake = Checker(FakeJudge(), top_k=2)
    embedded = Checker()

    def readers(raw_lines: list[bytes]) -> None:
        stream = io.BytesIO(b"\n".join(x.replace(b"\n", b" ") for x in raw_lines) + b"\n")
        assert len(list(read_records(iter_lines(stream, 10_000), max_bytes=10_000))) == len(raw_lines)

    def json_decoder(raw: bytes) -> None:
        try:
            loads_json(raw)
        except json.JSONDecodeError:
            pass

    def claims(text: str) -> None:
        summary_claims(Document(text))

    def check_many(checker: Any) -> Callable[[list[Any]], None]:
        def run(recs: list[Any]) -> None:
            items = [r if isinstance(r, dict) else {"doc": r} for r in recs]
            assert len(list(checker.check_many(items, batch_size=4))) == len(items)
        return run

    from fastapi.testclient import TestClient

    from verisum.server.app import create_app
    from verisum.server.settings import ServerSettings

    client = TestClient(create_app(ServerSettings(), judge=FakeJudge()), raise_server_exceptions=False)
    client.__enter__()

    def api(path_body: tuple[str, bytes]) -> None:
        path, body = path_body
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code in (200, 400, 413, 422, 501), (r.status_code, r.text[:300])

    return {
        "document": (texts, lambda t: run_boundary(lambda: Document(t).sentences)),
        "claims": (clean_texts, claims),
        "readers": (st.lists(lines, min_size=1, max_size=8), readers),
        "json": (lines, json_decoder),
        "seed_form": (texts, lambda t: run_boundary(lambda: split_seed(t, require_summary=False))),
        "check_fake": (st.lists(records, min_size=1, max_size=4), lambda r: run_boundary(lambda: check_many(fake)(r))),
        "check_embedded": (st.lists(records, min_size=1, max_size=2),
                           lambda r: run_boundary(lambda: check_many(embedded)(r))),
        "api": (st.tuples(st.sampled_from(["/v1/check", "/v1/fix", "/v1/highlights"]), request_bodies), api),
    }


def _counted(fn: Callable[[Any], Any], seen: dict[str, int]) -> Callable[[Any], None]:
    def body(x: Any) -> None:
        seen["n"] += 1
        fn(x)
    return body


def _counted(fn: Callable[[Any], Any], seen: dict[str, int]) -> Callable[[Any], None]:
    def body(x: Any) -> None:
        seen["n"] += 1
        fn(x)
    return body


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--total", type=int, default=100_000, help="generated inputs in all")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    failed = 0
    counted = 0
    print(f"{'target':<16} {'inputs':>8} {'seconds':>8}  result")
    for name, (strategy, fn) in targets().items():
        n = max(1, int(a.total * SHARES[name]))
        seen = {"n": 0}

        test = settings(max_examples=n, deadline=None, database=None, derandomize=False,
                        phases=[Phase.generate, Phase.shrink],
                        suppress_health_check=list(HealthCheck))(given(strategy)(_counted(fn, seen)))
        started = time.perf_counter()
        try:
            import random

            random.seed(a.seed)
            test()
            result = "ok"
        except Exception as exc:  # noqa: BLE001 - the report is the point
            failed += 1
            result = f"FAILED: {type(exc).__name__}: {str(exc)[:300]}"
        counted += seen["n"]
        print(f"{name:<16} {seen['n']:>8} {time.perf_counter() - started:>8.1f}  {result}", flush=True)
    print(f"{'total':<16} {counted:>8}  {'0 exceptions outside verisum.errors' if not failed else f'{failed} target(s) failed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
