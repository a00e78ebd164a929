"""verisum.batch on the local engine (no Ray): one row per record, the rows of `check --jsonl`,
Parquet in and out, resume, atomic parts, and the CLI's messages and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verisum.batch import BatchJob, done_ids, input_files, run_batch
from verisum.checker import Checker
from verisum.errors import InputError

from support.batch_records import expected_ids, write_records


def _rows(folder: Path) -> list[dict]:
    rows = []
    for part in sorted(folder.glob("part-*.jsonl")):
        rows += [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines()]
    return rows


@pytest.fixture
def records(tmp_path: Path) -> tuple[Path, list[bytes]]:
    path = tmp_path / "in.jsonl"
    return path, write_records(path, 120, bad_share=0.1)


def test_batch_local_one_row_per_record_equal_to_check_jsonl(cli, fake_backend: str, records, tmp_path: Path) -> None:
    path, lines = records
    res = cli("batch", "check", path, tmp_path / "out", "--backend", fake_backend, "--rows-per-file", "50")
    assert res.exit_code == 2, res  # some records are bad
    assert "120 records" in res.stderr and "error 12" in res.stderr
    rows = _rows(tmp_path / "out")
    assert [r["id"] for r in rows] == expected_ids(path, lines)
    assert len(list((tmp_path / "out").glob("part-*.jsonl"))) == 3  # 50 + 50 + 20

    ref = cli("check", "--jsonl", path, "--backend", fake_backend)
    reference = [json.loads(line) for line in ref.stdout.splitlines()]
    assert len(reference) == len(rows)
    for got, want in zip(rows, reference):
        if want.get("id") is None:  # the batch names an id-less record by where it is
            assert got["id"] == f"{path}:{want['line']}"
            got = {**got, "id": None}
        got.get("meta", {}).pop("seconds", None), want.get("meta", {}).pop("seconds", None)
        got.get("meta", {}).pop("timing", None), want.get("meta", {}).pop("timing", None)
        assert got == want


def test_batch_local_resume_does_only_the_missing_ids_and_cleans_torn_parts(fake_backend: str, records,
                                                                               tmp_path: Path) -> None:
    path, lines = records
    out = tmp_path / "out"
    job = BatchJob("check", Checker(fake_backend))
    first = run_batch(path, str(out), job, rows_per_file=40)
    assert first.records == 120
    parts = sorted(out.glob("part-*.jsonl"))  # one run: its parts sort in the order written
    kept = {json.loads(x)["id"] for x in parts[0].read_text(encoding="utf-8").splitlines()}
    for p in parts[1:]:  # the run "stopped" after its first part; a torn part was left behind
        p.unlink()
    (out / ".tmp-part-torn.jsonl").write_text('{"id": "r00001", "label"')
    again = run_batch(path, str(out), job, resume=True, rows_per_file=40)
    assert again.skipped == 40 and again.records == 80
    assert not list(out.glob(".tmp-*"))
    rows = _rows(out)
    assert sorted(r["id"] for r in rows) == sorted(expected_ids(path, lines))  # each once
    new = [json.loads(x)["id"] for p in set(out.glob("part-*.jsonl")) - {parts[0]}
           for x in p.read_text(encoding="utf-8").splitlines()]
    assert sorted(new) == sorted(set(expected_ids(path, lines)) - kept)
    assert run_batch(path, str(out), job, resume=True).records == 0


def test_batch_local_parquet_in_and_out(fake_backend: str, records, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (the [ray] or [test] extra)")
    import pyarrow.parquet as pq

    path, lines = records
    good = [json.loads(x) for x in lines if x.startswith(b'{"id": "r') and x.endswith(b"]}")]
    src = tmp_path / "in" / "part-0.parquet"
    src.parent.mkdir()
    pq.write_table(pa.Table.from_pylist(good), src)
    summary = run_batch(str(src.parent), str(tmp_path / "out"), BatchJob("check", Checker(fake_backend)),
                        output_format="parquet")
    table = pq.read_table(tmp_path / "out")
    assert table.num_rows == summary.records == len(good)
    assert table.column_names == ["id", "line", "status", "score", "code", "error", "result"]
    assert sorted(table.column("id").to_pylist()) == sorted(r["id"] for r in good)
    for row in table.to_pylist():
        result = json.loads(row["result"])
        assert result["id"] == row["id"] and result["label"] == row["status"]
        assert result["score"] == pytest.approx(row["score"], abs=1e-12)
    assert done_ids(str(tmp_path / "out")) == {r["id"] for r in good}


def test_batch_highlights_rows(fake_backend: str, tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"id": "a1", "article": "The port of Dunmore closed on Tuesday after a storm. "
                                "Ferries were cancelled for the week. The fish market stayed open."}) + "\n"
                    + '{"id": "a2"}\n', encoding="utf-8")
    summary = run_batch(str(path), str(tmp_path / "out"), BatchJob("highlights", Checker(fake_backend), n=2))
    rows = _rows(tmp_path / "out")
    assert [r["id"] for r in rows] == ["a1", "a2"]
    assert len(rows[0]["highlights"]) == 2 and rows[1]["code"] == "bad_record"
    assert summary.statuses == {"written": 1, "error": 1} and summary.exit_code() == 2


def test_batch_inputs_folders_globs_and_their_errors(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ("d/a.jsonl", "d/sub/b.jsonl", "d/.hidden.jsonl", "d/_SUCCESS", "d/notes.txt"):
        (tmp_path / name).write_text("{}\n")
    files, fmt = input_files(str(tmp_path / "d"))
    assert fmt == "jsonl" and [Path(f).name for f in files] == ["a.jsonl", "b.jsonl"]
    assert [Path(f).name for f in input_files(str(tmp_path / "d" / "*.jsonl"))[0]] == ["a.jsonl"]
    with pytest.raises(InputError, match="no such file"):
        input_files(str(tmp_path / "missing.jsonl"))
    with pytest.raises(InputError, match="no input files"):
        input_files(str(tmp_path / "d" / "*.parquet"))
    (tmp_path / "d" / "c.parquet").write_bytes(b"PAR1")
    with pytest.raises(InputError, match="mixes JSONL and Parquet"):
        input_files(str(tmp_path / "d"))
    with pytest.raises(InputError, match="cannot tell the format"):
        input_files(str(tmp_path / "d" / "notes.txt"))


def test_batch_inputs_as_uris(tmp_path: Path) -> None:
    """The path Ray takes for s3:// and gs:// inputs, on pyarrow's local filesystem (file://)."""
    pytest.importorskip("pyarrow", reason="URIs are listed with pyarrow's filesystems")
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ("d/a.jsonl", "d/sub/b.jsonl", "d/.hidden.jsonl", "d/_tmp/c.jsonl", "d/notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}\n")
    uri = f"file://{tmp_path}/d"
    assert input_files(uri)[0] == [f"{uri}/a.jsonl", f"{uri}/sub/b.jsonl"]
    assert input_files(f"{uri}/*.jsonl")[0] == [f"{uri}/a.jsonl"]
    assert input_files(f"{uri}/a.jsonl")[0] == [f"{uri}/a.jsonl"]
    with pytest.raises(InputError, match="no such file"):
        input_files(f"{uri}/missing/")


def test_batch_cli_usage_errors(cli, tmp_path: Path, records) -> None:
    path, _ = records
    res = cli("batch", "check", path, tmp_path / "out", "--workers", "2")
    assert res.exit_code == 2 and "--engine ray" in res.stderr
    (tmp_path / "file").write_text("x")
    res = cli("batch", "check", path, tmp_path / "file")
    assert res.exit_code == 2 and "OUTPUT must be a folder" in res.stderr
    res = cli("batch", "check", tmp_path / "nope.jsonl", tmp_path / "out")
    assert res.exit_code == 2 and "no such file" in res.stderr and "Traceback" not in res.stderr
