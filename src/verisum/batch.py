"""Batch jobs over files: check every summary, or write highlights for every article, of JSONL
or Parquet inputs, into a folder of JSONL or Parquet parts, in this process (``engine="local"``)
or on a Ray cluster (``engine="ray"``, Ray Data).

    from verisum import Checker
    from verisum.batch import BatchJob, run_batch

    summary = run_batch("records.jsonl", "out/", BatchJob("check", Checker()), engine="ray", workers=2)
    print(summary.format())

The contract, on both engines:

- **One row per record, nothing lost.** Every input record (a JSONL line, a Parquet row) yields
  exactly one output row: its result, or an error row saying what was wrong with it. A record
  that fails (bad JSON, a missing field, a backend that timed out, a bug) is an error row; it
  never fails the job. Records are read by :mod:`verisum.records`' one key rule.
- **The rows are the single-machine rows.** A JSONL part holds exactly the lines that
  ``verisum check --jsonl`` (``highlights --jsonl``) writes; a Parquet part holds the columns of
  :data:`OUTPUT_COLUMNS`: ``id``, ``line``, ``status``, ``score``, ``code``, ``error`` for queries,
  and ``result``, that same JSON line.
- **Parts are atomic.** Each part is written under a hidden ``.tmp-`` name and renamed when
  complete, so an interrupted run leaves only whole parts behind.
- **Ids.** A row carries its record's ``id``; a record without one (or whose line is too
  broken to read it from) gets ``FILE:LINE`` (the input file's absolute path, or its path in
  the bucket; the 1-based line or Parquet row), so every row joins back to its input.
- **Resume.** ``resume=True`` reads the ids already in the output folder and skips those
  records, so an interrupted run continues where it stopped.
- **A worker that dies** (killed, out of memory) is restarted by Ray, and the batch it held is
  run again (Ray Data's actor pools restart actors and retry their tasks: ``max_restarts=-1``,
  ``max_task_retries=-1``); output rows are only written after a batch is done, so the job
  still ends with one row per record.

The Ray engine reads with a small Ray datasource (:class:`LinesDatasource`) that yields each
record as raw bytes with its line number, so a line that is not JSON (or not UTF-8) becomes an
error row instead of failing the read as ``ray.data.read_json`` would; each worker of an actor
pool (``map_batches`` with a callable class) loads the model once; a file datasink writes the
parts. Ray and pyarrow are the ``[ray]`` extra; the local engine needs neither for JSONL.
"""

from __future__ import annotations

import copy
import fnmatch
import glob
import io
import json
import logging
import os
import posixpath
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Mapping, Sequence

from .errors import InputError
from .io import MAX_BULLETS, MAX_INPUT_BYTES
from .records import Record, RecordError, iter_lines, parse_line

if TYPE_CHECKING:
    from .checker import Checker

__all__ = [
    "BatchJob",
    "BatchSummary",
    "RowMaker",
    "run_batch",
    "input_files",
    "done_ids",
    "OUTPUT_COLUMNS",
]

Job = Literal["check", "highlights"]
Format = Literal["jsonl", "parquet"]

#: The columns of a Parquet part (a JSONL part holds only ``result``, one line each).
OUTPUT_COLUMNS = ("id", "line", "status", "score", "code", "error", "result")
#: Extensions read as JSONL and as Parquet.
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
_TMP = ".tmp-"


@dataclass(frozen=True)
class BatchJob:
    """What to do with each record; picklable, so every worker builds its own copy.

    job: "check" (records need ``summary``) or "highlights" (records need only the source).
    checker: the Checker to use, unloaded (a Checker pickles as its configuration; each worker
        loads its own model); None builds the default embedded Checker.
    n, writer, writer_params, max_rounds: :func:`verisum.highlights.write_highlights_many`'s.
    max_bytes, max_bullets: the input limits of ``check --jsonl``.
    """

    job: Job = "check"
    checker: "Checker | None" = None
    n: int = 3
    writer: str = "extractive"
    writer_params: Mapping[str, Any] = field(default_factory=dict)
    max_rounds: int = 2
    max_bytes: int = MAX_INPUT_BYTES
    max_bullets: int = MAX_BULLETS

    def __post_init__(self) -> None:
        if self.job not in ("check", "highlights"):
            raise InputError(f"job must be 'check' or 'highlights', not {self.job!r}")


@dataclass
class BatchSummary:
    """What a batch run did: rows written by status, records skipped by ``resume``, time."""

    statuses: Counter = field(default_factory=Counter)
    skipped: int = 0
    seconds: float = 0.0
    engine: str = "local"
    workers: int = 1

    @property
    def records(self) -> int:
        return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        return self.statuses.get("error", 0)

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def exit_code(self) -> int:
        """``check --jsonl``'s: 2 when a record could not be done, else 1 when something was
        found (a summary not supported, an article with no highlight), else 0."""
        if self.errors:
            return 2
        return 1 if any(s in self.statuses for s in ("unsupported", "contradicted", "none")) else 0

    def format(self) -> str:
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(self.statuses.items()))
        skipped = f"; {self.skipped:,} already in the output (resume)" if self.skipped else ""
        return (f"{self.records:,} records ({counts or 'none'}){skipped}; {self.seconds:.1f} s, "
                f"{self.records_per_second:.1f} records/s ({self.engine}, {self.workers} worker"
                f"{'s' if self.workers != 1 else ''})")

    def to_dict(self) -> dict[str, Any]:
        return {"records": self.records, "errors": self.errors, "statuses": dict(self.statuses),
                "skipped": self.skipped, "seconds": round(self.seconds, 3),
                "records_per_second": round(self.records_per_second, 2), "engine": self.engine,
                "workers": self.workers}


# -- records -> rows -----------------------------------------------------------------------
class RowMaker:
    """Turns raw input records into output rows, one per record.

    What every worker holds: its own Checker (loaded once, on first use), the job, and the ids
    to skip. ``threads`` caps the embedded judge's parallel model calls (a Ray worker gets the
    CPUs it asked for, not the machine's).
    """

    def __init__(self, job: BatchJob, skip: Iterable[str] = (), threads: int | None = None) -> None:
        from .checker import Checker

        checker = job.checker if job.checker is not None else Checker()
        if threads and isinstance(checker.judge, str) and checker.judge == "embedded" \
                and "workers" not in checker.judge_params:
            checker = _with_judge_params(checker, workers=threads)
        self.job = job
        self.checker = checker
        self.skip = frozenset(skip)

    def rows(self, lines: Iterable[tuple[str, int, bytes]]) -> list[dict[str, Any]]:
        """Output rows for ``(file, line number, raw bytes)`` inputs, one per input not skipped."""
        require_summary = self.job.job == "check"
        items: list[Record | RecordError] = []
        for file, line_no, raw in lines:
            item = parse_line(raw, line_no, max_bytes=self.job.max_bytes, max_bullets=self.job.max_bullets,
                              require_summary=require_summary)
            if item.id is None:
                # Every row can be joined back to its input, and resumed: an id-less record is
                # known by where it is.
                item = replace(item, id=f"{file}:{line_no}")
            if item.id in self.skip:
                continue
            items.append(item)
        if self.job.job == "check":
            results: Iterable[Any] = self.checker.check_many(items)
        else:
            from .highlights import write_highlights_many

            results = write_highlights_many(items, self.job.n, self.job.writer, self.checker,
                                            writer_params=self.job.writer_params, max_rounds=self.job.max_rounds)
        return [output_row(r) for r in results]


def _with_judge_params(checker: "Checker", **params: Any) -> "Checker":
    """A copy of ``checker`` (its configuration: a Checker copies as it pickles) with more
    judge parameters."""
    derived = copy.copy(checker)
    derived.judge_params = {**checker.judge_params, **params}
    return derived


def output_row(item: Any) -> dict[str, Any]:
    """A result or a RecordError as an output row (:data:`OUTPUT_COLUMNS`); ``result`` is the
    exact line ``check --jsonl`` / ``highlights --jsonl`` writes for it."""
    from .schema import CheckResultModel, ErrorModel, HighlightsResultModel

    if isinstance(item, RecordError):
        model: Any = ErrorModel.from_record_error(item)
        row = {"id": item.id, "line": item.line, "status": "error", "score": None,
               "code": item.error.code, "error": str(item.error)}
    elif hasattr(item, "highlights"):
        model = HighlightsResultModel.from_result(item)
        row = {"id": item.id, "line": None, "status": "written" if item.highlights else "none",
               "score": item.check.score if item.check is not None else None, "code": None, "error": None}
    else:
        model = CheckResultModel.from_result(item)
        row = {"id": item.id, "line": None, "status": model.label, "score": model.score, "code": None,
               "error": None}
    row["result"] = json.dumps(model.model_dump(mode="json"), ensure_ascii=False)
    return row


# -- inputs ------------------------------------------------------------------------------------
def _has_scheme(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def _format_of(path: str) -> Format | None:
    low = path.lower()
    if low.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if low.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return None


def input_files(inputs: str | os.PathLike | Sequence[str | os.PathLike],
                input_format: Format | None = None) -> tuple[list[str], Format]:
    """The files an INPUT names (a file, a folder, a glob; local or a pyarrow filesystem URI)
    and their format; a folder gives its JSONL and Parquet files, hidden ones left out."""
    paths = [os.fspath(inputs)] if isinstance(inputs, (str, os.PathLike)) else [os.fspath(p) for p in inputs]
    files: list[str] = []
    for path in paths:
        files.extend(_expand(path, input_format))
    if not files:
        raise InputError(f"no input files found at {', '.join(paths)} (looked for "
                         f"{', '.join(JSONL_SUFFIXES + PARQUET_SUFFIXES)} files)")
    if input_format is None:
        kinds = {_format_of(f) for f in files}
        if None in kinds:
            unknown = next(f for f in files if _format_of(f) is None)
            raise InputError(f"cannot tell the format of {unknown}; name it .jsonl or .parquet, "
                             "or give --input-format")
        if len(kinds) > 1:
            raise InputError("the input mixes JSONL and Parquet files; give one format per run")
        input_format = kinds.pop()
    return files, input_format  # type: ignore[return-value]


def _expand(path: str, input_format: Format | None) -> list[str]:
    def wanted(name: str) -> bool:
        base = posixpath.basename(name)
        if base.startswith((".", "_")):
            return False
        return _format_of(name) is not None if input_format is None else _format_of(name) in (None, input_format)

    if "://" in path:
        return _expand_uri(path, wanted)
    # Local files by absolute path, as Ray names them too: an id-less record's FILE:LINE id is
    # then the same on both engines, and from any working folder.
    if any(c in path for c in "*?["):
        return sorted(os.path.abspath(p) for p in glob.glob(path, recursive=True) if Path(p).is_file() and wanted(p))
    p = Path(path)
    if p.is_dir():
        return sorted(os.path.abspath(f) for f in p.rglob("*") if f.is_file() and wanted(str(f.relative_to(p)))
                      and not any(part.startswith((".", "_")) for part in f.relative_to(p).parts))
    if not p.exists():
        raise InputError(f"{path}: no such file")
    return [os.path.abspath(p)]


def _expand_uri(uri: str, wanted: Callable[[str], bool]) -> list[str]:
    """A URI (s3://, gs://, hdfs://, file://), a folder URI or a glob URI, listed with pyarrow's
    filesystems; the files come back as URIs of the same scheme (and host)."""
    from pyarrow import fs as pafs

    star = min((uri.find(c) for c in "*?[" if c in uri.split("://", 1)[1]), default=-1)
    base = uri if star < 0 else uri[:star].rsplit("/", 1)[0]
    try:
        filesystem, root = pafs.FileSystem.from_uri(base)
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot open {uri}: {exc}") from exc
    # What comes before the filesystem's own path: "s3://" for s3://bucket/key, the host too for hdfs.
    prefix = base[: base.rfind(root)] if root and root in base else base.split("://", 1)[0] + "://"
    info = filesystem.get_file_info(root)
    if info.type == pafs.FileType.NotFound:
        raise InputError(f"{base}: no such file or folder")
    if star < 0 and info.type == pafs.FileType.File:
        return [uri]
    pattern = None if star < 0 else root.rstrip("/") + uri[len(base):]
    files = filesystem.get_file_info(pafs.FileSelector(root, recursive=True))
    return sorted(prefix + f.path for f in files if f.type == pafs.FileType.File and wanted(f.path)
                  and (pattern is None or _glob_match(f.path, pattern))
                  and not any(part.startswith((".", "_")) for part in f.path[len(root):].split("/")))


def _glob_match(path: str, pattern: str) -> bool:
    """A glob as the shell reads it: "*" stays within one folder; "**" crosses folders."""
    if "**" in pattern:
        return fnmatch.fnmatchcase(path, pattern)
    parts, pats = path.split("/"), pattern.split("/")
    return len(parts) == len(pats) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, pats))


def jsonl_lines(stream: IO[bytes], max_bytes: int = MAX_INPUT_BYTES) -> Iterator[tuple[int, bytes]]:
    """``(line number, raw line)`` of a JSONL stream: what ``check --jsonl`` reads, one per line."""
    return enumerate(iter_lines(stream, max_bytes), start=1)


def parquet_lines(source: Any, batch_rows: int = 1024) -> Iterator[tuple[int, bytes]]:
    """``(row number, the row as JSON bytes)`` of a Parquet file, so a Parquet row is read by
    the very rules a JSONL line is (a value JSON cannot hold is written as its text)."""
    import pyarrow.parquet as pq

    row_no = 0
    for batch in pq.ParquetFile(source).iter_batches(batch_size=batch_rows):
        for row in batch.to_pylist():
            row_no += 1
            yield row_no, json.dumps(row, ensure_ascii=False, default=str).encode("utf-8")


def _lines_of(path: str, fmt: Format, max_bytes: int) -> Iterator[tuple[int, bytes]]:
    from .io import open_binary

    if path.startswith("file://"):
        path = path[len("file://"):]
    elif "://" in path:
        raise InputError(f"{path}: the local engine reads local files; use --engine ray for remote storage")
    if fmt == "parquet":
        yield from parquet_lines(path)
        return
    with open_binary(path) as fh:
        yield from jsonl_lines(fh, max_bytes)


# -- outputs -----------------------------------------------------------------------------------
class _Folder:
    """The output folder, local or on a pyarrow filesystem: list, read, write atomically."""

    def __init__(self, path: str) -> None:
        self.path = path.rstrip("/") or path
        self.remote = _has_scheme(path)
        if self.remote:
            from pyarrow import fs as pafs

            self.fs, self.root = pafs.FileSystem.from_uri(path)
        else:
            local = Path(path)
            if local.exists() and not local.is_dir():
                raise InputError(f"{path} is a file; OUTPUT must be a folder (it is created if missing)")

    def names(self) -> list[str]:
        if self.remote:
            from pyarrow import fs as pafs

            info = self.fs.get_file_info(self.root)
            if info.type == pafs.FileType.NotFound:
                return []
            infos = self.fs.get_file_info(pafs.FileSelector(self.root, recursive=False))
            return sorted(posixpath.basename(i.path) for i in infos if i.type == pafs.FileType.File)
        local = Path(self.path)
        return sorted(f.name for f in local.iterdir() if f.is_file()) if local.is_dir() else []

    def open_read(self, name: str) -> Any:
        if self.remote:
            return self.fs.open_input_file(posixpath.join(self.root, name))
        return open(Path(self.path) / name, "rb")  # noqa: SIM115 - closed by the caller's with

    def remove(self, name: str) -> None:
        if self.remote:
            self.fs.delete_file(posixpath.join(self.root, name))
        else:
            (Path(self.path) / name).unlink(missing_ok=True)

    def clean(self) -> None:
        """Remove the ``.tmp-`` parts an interrupted run left behind."""
        for name in self.names():
            if name.startswith(_TMP):
                self.remove(name)


def done_ids(output: str | os.PathLike) -> set[str]:
    """The ids of the rows already in an output folder (its JSONL and Parquet parts)."""
    folder = _Folder(os.fspath(output))
    ids: set[str] = set()
    for name in folder.names():
        if name.startswith((".", "_")):
            continue
        if name.endswith(".jsonl"):
            with folder.open_read(name) as fh:
                for raw in (fh if not folder.remote else io.BytesIO(fh.read())):
                    try:
                        rid = json.loads(raw).get("id")
                    except (ValueError, AttributeError):
                        continue  # not a row of ours
                    if rid is not None:
                        ids.add(str(rid))
        elif name.endswith(".parquet"):
            import pyarrow.parquet as pq

            with folder.open_read(name) as fh:
                column = pq.read_table(fh, columns=["id"]).column("id").to_pylist()
            ids.update(str(x) for x in column if x is not None)
    return ids


def output_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("id", pa.string()), ("line", pa.int64()), ("status", pa.string()),
                      ("score", pa.float64()), ("code", pa.string()), ("error", pa.string()),
                      ("result", pa.string())])


class _LocalParts:
    """The local engine's writer: parts of at most ``rows_per_file`` rows, each atomic."""

    def __init__(self, output: str, fmt: Format, rows_per_file: int) -> None:
        if _has_scheme(output):
            raise InputError(f"{output}: the local engine writes local folders; use --engine ray for "
                             "remote storage")
        Path(output).mkdir(parents=True, exist_ok=True)
        self.dir = Path(output)
        self.fmt = fmt
        self.rows_per_file = rows_per_file
        self.run = uuid.uuid4().hex[:12]
        self.index = 0
        self.buffer: list[dict[str, Any]] = []
        self.files: list[str] = []

    def add(self, row: dict[str, Any]) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= self.rows_per_file:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        name = f"part-{self.run}-{self.index:05d}.{self.fmt}"
        tmp = self.dir / f"{_TMP}{name}"
        if self.fmt == "jsonl":
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                fh.writelines(row["result"] + "\n" for row in self.buffer)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist(self.buffer, schema=output_schema()), tmp)
        os.replace(tmp, self.dir / name)
        self.files.append(name)
        self.index += 1
        self.buffer = []


# -- running -----------------------------------------------------------------------------------
def run_batch(
    inputs: str | os.PathLike | Sequence[str | os.PathLike],
    output: str | os.PathLike,
    job: BatchJob | None = None,
    *,
    engine: Literal["local", "ray"] = "local",
    output_format: Format = "jsonl",
    input_format: Format | None = None,
    resume: bool = False,
    batch_size: int = 32,
    rows_per_file: int = 10_000,
    workers: int = 1,
    address: str | None = None,
    cpus_per_worker: float = 1,
    gpus_per_worker: float = 0,
    progress: Callable[[int, int | None], None] | None = None,
) -> BatchSummary:
    """Run ``job`` over every record of ``inputs`` into the folder ``output``; see the module
    docstring for the contract. ``progress(done, None)`` is called per record on the local
    engine (Ray draws its own progress bars on a terminal)."""
    job = job or BatchJob()
    output = os.fspath(output)
    if output_format not in ("jsonl", "parquet"):
        raise InputError(f"output format must be jsonl or parquet, not {output_format!r}")
    if batch_size < 1 or rows_per_file < 1 or workers < 1:
        raise InputError("batch_size, rows_per_file and workers must be at least 1")
    files, fmt = input_files(inputs, input_format)
    folder = _Folder(output)
    folder.clean()
    skip = done_ids(output) if resume else set()
    started = time.perf_counter()
    if engine == "local":
        summary = _run_local(files, fmt, output, job, skip, output_format, batch_size, rows_per_file, progress)
    elif engine == "ray":
        summary = _run_ray(files, fmt, output, job, skip, output_format, batch_size, workers, address,
                           cpus_per_worker, gpus_per_worker)
    else:
        raise InputError(f"engine must be 'local' or 'ray', not {engine!r}")
    summary.seconds = time.perf_counter() - started
    summary.engine, summary.workers = engine, (workers if engine == "ray" else 1)
    if resume:
        summary.skipped = len(skip)
    return summary


def _run_local(files: list[str], fmt: Format, output: str, job: BatchJob, skip: set[str],
               output_format: Format, batch_size: int, rows_per_file: int,
               progress: Callable[[int, int | None], None] | None) -> BatchSummary:
    if (fmt == "parquet" or output_format == "parquet") and not _has_pyarrow():
        raise InputError("Parquet needs pyarrow: pip install 'verisum[ray]' (or pyarrow)")
    maker = RowMaker(job, skip)
    parts = _LocalParts(output, output_format, rows_per_file)
    summary = BatchSummary()
    done = 0
    for path in files:
        chunk: list[tuple[str, int, bytes]] = []
        for line_no, raw in _lines_of(path, fmt, job.max_bytes):
            chunk.append((path, line_no, raw))
            if len(chunk) >= batch_size:
                done = _emit(maker.rows(chunk), parts, summary, progress, done)
                chunk = []
        if chunk:
            done = _emit(maker.rows(chunk), parts, summary, progress, done)
    parts.flush()
    return summary


def _emit(rows: list[dict[str, Any]], parts: _LocalParts, summary: BatchSummary,
          progress: Callable[[int, int | None], None] | None, done: int) -> int:
    for row in rows:
        parts.add(row)
        summary.statuses[row["status"]] += 1
        done += 1
        if progress:
            progress(done, None)
    return done


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _run_ray(files: list[str], fmt: Format, output: str, job: BatchJob, skip: set[str],
             output_format: Format, batch_size: int, workers: int, address: str | None,
             cpus_per_worker: float, gpus_per_worker: float) -> BatchSummary:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise InputError("--engine ray needs Ray: pip install 'verisum[ray]'") from exc
    from .ray_engine import LinesDatasource, PartsDatasink, RayWorker

    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False,
                 include_dashboard=False, configure_logging=False)
    # Ray Data's per-run INFO lines would bury verisum's own summary; its warnings still show.
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = sys.stderr.isatty()
    ctx.print_on_execution_start = False
    # Reading and writing take no CPU of their own in Ray's accounting: they are light beside the
    # model, and a worker pool that holds every CPU (2 workers on 2 cores) must not starve them.
    ds = ray.data.read_datasource(LinesDatasource(files, fmt, job.max_bytes), num_cpus=0)
    ds = ds.map_batches(
        RayWorker,
        fn_constructor_kwargs={"job": job, "skip": frozenset(skip), "threads": max(1, int(cpus_per_worker))},
        batch_size=batch_size,
        batch_format="pyarrow",
        # A fixed pool: each worker loads the model once. Ray Data's actor pools restart a worker
        # that dies and retry the batch it held (max_restarts=-1, max_task_retries=-1 by default).
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=cpus_per_worker,
        num_gpus=gpus_per_worker or None,
    )
    sink = PartsDatasink(output, output_format)
    ds.write_datasink(sink, ray_remote_args={"num_cpus": 0})
    return BatchSummary(statuses=sink.statuses)
