"""verisum.batch on a real local Ray (``ray.init(num_cpus=2)``): one row per record with the
input's ids, the same results as ``check --jsonl``, a worker killed mid-run, and resume.

Marked ``ray``: ``pytest -m "not ray"`` leaves them out; CI runs them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the Ray engine needs the [ray] extra: pip install -e '.[ray]'")

from verisum.batch import BatchJob, run_batch  # noqa: E402
from verisum.checker import Checker  # noqa: E402

from support.batch_records import expected_ids, write_records  # noqa: E402

pytestmark = pytest.mark.ray

TESTS = Path(__file__).parent
N = 1000


@pytest.fixture(scope="module")
def local_ray():
    # The workers import the tests' own judges (support/), so they get the tests' folder on their path.
    path = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[bytes], dict[str, dict]]:
    """1,000 records (5% bad) and what ``verisum check --jsonl`` says of each, by expected id."""
    from click.testing import CliRunner

    from verisum.cli import main

    folder = tmp_path_factory.mktemp("ray-batch")
    path = folder / "records.jsonl"
    lines = write_records(path, N, bad_share=0.05)
    res = CliRunner().invoke(main, ["check", "--jsonl", str(path), "-o", str(folder / "reference.jsonl")])
    assert res.exit_code == 2, res.output  # 2: some records are bad
    reference = [json.loads(x) for x in (folder / "reference.jsonl").read_text(encoding="utf-8").splitlines()]
    return path, lines, dict(zip(expected_ids(path, lines), reference))


def _rows(folder: Path) -> list[dict]:
    return [json.loads(x) for p in sorted(folder.glob("part-*.jsonl")) for x in p.read_text(encoding="utf-8").splitlines()]


def _same(row: dict, want: dict) -> None:
    assert row.get("ok", True) == want.get("ok", True)
    if "error" in want:
        assert (row["code"], row["error"], row["line"]) == (want["code"], want["error"], want["line"])
        return
    assert row["label"] == want["label"]
    assert abs(row["score"] - want["score"]) <= 1e-6
    for s, w in zip(row["sentences"], want["sentences"], strict=True):
        assert s["label"] == w["label"] and abs(s["score"] - w["score"]) <= 1e-6


def test_ray_batch_one_row_per_record_same_as_check_jsonl(local_ray, data, tmp_path: Path) -> None:
    path, lines, reference = data
    summary = run_batch(path, tmp_path / "out", BatchJob("check"), engine="ray", workers=2)
    rows = _rows(tmp_path / "out")
    assert len(rows) == N == summary.records
    assert sorted(r["id"] for r in rows) == sorted(expected_ids(path, lines))
    assert summary.errors == sum(1 for r in rows if r.get("ok") is False) == N // 20
    for row in rows:
        _same(row, reference[row["id"]])


def test_ray_batch_survives_a_killed_worker(local_ray, data, tmp_path: Path) -> None:
    path, lines, reference = data
    marker = tmp_path / "died"
    from support.judges import DiesOnce

    job = BatchJob("check", Checker(DiesOnce(str(marker), after=5)))
    summary = run_batch(path, tmp_path / "out", job, engine="ray", workers=2, batch_size=16)
    assert marker.exists(), "no worker died: the test proved nothing"
    rows = _rows(tmp_path / "out")
    assert len(rows) == N == summary.records
    assert sorted(r["id"] for r in rows) == sorted(expected_ids(path, lines))
    for row in rows:
        _same(row, reference[row["id"]])


def test_ray_batch_resume_writes_only_the_missing_ids(local_ray, data, tmp_path: Path) -> None:
    path, lines, _ = data
    out = tmp_path / "out"
    run_batch(path, out, BatchJob("check"), engine="ray", workers=2, batch_size=64)
    parts = sorted(out.glob("part-*.jsonl"))
    assert len(parts) > 2
    for part in parts[len(parts) // 2:]:  # the run "stopped" before writing these
        part.unlink()
    (out / ".tmp-part-torn.jsonl").write_bytes(b'{"id": "r00000", "lab')
    kept = {r["id"] for r in _rows(out)}
    summary = run_batch(path, out, BatchJob("check"), engine="ray", workers=2, resume=True)
    assert summary.skipped == len(kept) and summary.records == N - len(kept)
    new = {r["id"] for p in set(out.glob("part-*.jsonl")) - set(parts[: len(parts) // 2]) for r in _rows_of(p)}
    assert new == set(expected_ids(path, lines)) - kept
    rows = _rows(out)
    assert len(rows) == N and sorted(r["id"] for r in rows) == sorted(expected_ids(path, lines))
    assert not list(out.glob(".tmp-*"))


def _rows_of(part: Path) -> list[dict]:
    return [json.loads(x) for x in part.read_text(encoding="utf-8").splitlines()]


def test_ray_batch_parquet_in_and_out(local_ray, data, tmp_path: Path) -> None:
    """Parquet rows take the same road as JSONL lines (read as JSON by the same rules)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path, lines, reference = data
    good = [json.loads(x) for x in lines[:200] if x.startswith(b'{"id": "r') and x.endswith(b"]}")]
    (tmp_path / "in").mkdir()
    pq.write_table(pa.Table.from_pylist(good[:100]), tmp_path / "in" / "a.parquet")
    pq.write_table(pa.Table.from_pylist(good[100:]), tmp_path / "in" / "b.parquet")
    summary = run_batch(tmp_path / "in", tmp_path / "out", BatchJob("check"), engine="ray", workers=2,
                        output_format="parquet")
    table = pq.read_table(tmp_path / "out")
    assert table.num_rows == summary.records == len(good)
    assert sorted(table.column("id").to_pylist()) == sorted(r["id"] for r in good)
    for row in table.to_pylist():
        _same(json.loads(row["result"]), reference[row["id"]])
