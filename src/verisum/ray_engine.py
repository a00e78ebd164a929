"""The Ray pieces of :mod:`verisum.batch` (imported only for ``engine="ray"``; needs the
``[ray]`` extra): a datasource that reads records as raw lines, the worker class of the actor
pool, and a datasink that writes atomic parts and counts what it wrote."""

from __future__ import annotations

import io
import posixpath
import uuid
from collections import Counter
from typing import Any, Iterable, Iterator

import pyarrow as pa
from ray.data.block import Block, BlockAccessor
from ray.data.datasource import BlockBasedFileDatasink, FileBasedDatasource

from .batch import BatchJob, RowMaker, output_schema, jsonl_lines, parquet_lines

__all__ = ["LinesDatasource", "RayWorker", "PartsDatasink"]

#: Records per block the datasource yields (a block is the unit Ray schedules and retries).
LINES_PER_BLOCK = 256

_INPUT_SCHEMA = pa.schema([("file", pa.string()), ("line", pa.int64()), ("raw", pa.binary())])


class _Readable(io.RawIOBase):
    """A pyarrow input stream as a Python raw stream, so ``io.BufferedReader`` can give the
    bounded ``readline`` that :func:`verisum.records.iter_lines` reads with."""

    def __init__(self, f: Any) -> None:
        self.f = f

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.f.read(len(b))
        b[: len(data)] = data
        return len(data)


class LinesDatasource(FileBasedDatasource):
    """Each record of JSONL or Parquet files as ``{file, line, raw}``: its file, its 1-based
    line (or row) number and its bytes (a Parquet row as JSON), so the workers parse every record by the one
    rule of :mod:`verisum.records`, and a bad line is an error row rather than a failed read."""

    def __init__(self, paths: list[str], fmt: str, max_bytes: int, **kwargs: Any) -> None:
        super().__init__(paths, **kwargs)
        self.fmt = fmt
        self.max_bytes = max_bytes

    def _open_input_source(self, filesystem: Any, path: str, **open_args: Any) -> Any:
        if self.fmt == "parquet":  # Parquet needs random access (its footer comes last)
            return filesystem.open_input_file(path)
        return super()._open_input_source(filesystem, path, **open_args)

    def _read_stream(self, f: Any, path: str) -> Iterator[Block]:
        lines = (parquet_lines(f) if self.fmt == "parquet"
                 else jsonl_lines(io.BufferedReader(_Readable(f), 1 << 20), self.max_bytes))
        chunk: list[tuple[int, bytes]] = []
        for item in lines:
            chunk.append(item)
            if len(chunk) >= LINES_PER_BLOCK:
                yield _block(path, chunk)
                chunk = []
        if chunk:
            yield _block(path, chunk)


def _block(path: str, chunk: list[tuple[int, bytes]]) -> pa.Table:
    return pa.Table.from_arrays([pa.array([path] * len(chunk), pa.string()),
                                 pa.array([c[0] for c in chunk], pa.int64()),
                                 pa.array([c[1] for c in chunk], pa.binary())], schema=_INPUT_SCHEMA)


class RayWorker:
    """One worker of the actor pool: builds its Checker once, then turns batches of raw
    records into output rows (:class:`verisum.batch.RowMaker`)."""

    def __init__(self, job: BatchJob, skip: frozenset[str] = frozenset(), threads: int = 1) -> None:
        self.maker = RowMaker(job, skip, threads=threads)

    def __call__(self, batch: pa.Table) -> pa.Table:
        lines = zip(batch.column("file").to_pylist(), batch.column("line").to_pylist(),
                    batch.column("raw").to_pylist())
        return pa.Table.from_pylist(self.maker.rows(lines), schema=output_schema())


class PartsDatasink(BlockBasedFileDatasink):
    """Writes each block as one part (``part-<run>-<task>.jsonl`` or ``.parquet``), first under a
    hidden ``.tmp-`` name, renamed when whole; each write task returns the statuses it wrote,
    which :attr:`statuses` adds up on the driver for the end-of-run summary."""

    def __init__(self, path: str, fmt: str) -> None:
        from ray.data import SaveMode

        super().__init__(path, file_format=fmt, mode=SaveMode.APPEND)
        self.fmt = fmt
        self.run = uuid.uuid4().hex[:12]
        self.statuses: Counter = Counter()

    # Datasink is generic in what write() returns (on_write_complete receives it); Ray's file
    # datasinks pin it to None, and this one returns its counts.
    def write(self, blocks: Iterable[Block], ctx: Any) -> Counter:  # type: ignore[override]
        blocks = list(blocks)
        counts: Counter = Counter()
        for block in blocks:
            counts.update(BlockAccessor.for_block(block).to_arrow().column("status").to_pylist())
        super().write(iter(blocks), ctx)
        return counts

    def write_block(self, block: BlockAccessor, block_index: int, ctx: Any) -> None:
        name = f"part-{self.run}-{ctx.task_idx:06d}-{block_index:04d}.{self.fmt}"
        tmp = posixpath.join(self.path, f".tmp-{name}")
        with self.open_output_stream(tmp) as file:
            self.write_block_to_file(block, file)
        self.filesystem.move(tmp, posixpath.join(self.path, name))

    def write_block_to_file(self, block: BlockAccessor, file: Any) -> None:
        table = block.to_arrow()
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, file)
        else:
            for line in table.column("result").to_pylist():
                file.write(line.encode("utf-8") + b"\n")

    def on_write_complete(self, write_result: Any) -> None:
        super().on_write_complete(write_result)
        for counts in write_result.write_returns:
            if counts:
                self.statuses.update(counts)
