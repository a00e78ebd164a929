"""Run the model off the event loop, batching requests that arrive together.

One worker thread owns every call into the judge. A request puts a job on a queue and awaits
its future; the worker takes the first job, then whatever else is already queued (waiting at
most ``max_wait_s`` for stragglers, up to ``max_batch`` jobs), groups the jobs by key (jobs
with the same key can share a pass through the model) and runs each group with one call to
``run_batch``. The event loop never blocks on the model, and under load the model sees
batches rather than single requests: while one batch runs, the next one queues up.

A single worker is deliberate: the judge already uses every core for one batch, and a second
thread would only make the two compete.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Sequence

__all__ = ["Batcher", "BatcherClosed", "BatcherFull"]

#: ``run_batch(key, items)`` returns one outcome per item: a value, or an exception to raise.
RunBatch = Callable[[Hashable, Sequence[Any]], Sequence[Any]]


class BatcherClosed(RuntimeError):
    """A job was submitted after the batcher stopped."""


class BatcherFull(RuntimeError):
    """The queue already holds ``max_queue`` jobs: the server is overloaded."""


@dataclass
class _Job:
    key: Hashable
    item: Any
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future = field(repr=False)


_STOP = object()


def _settle(future: asyncio.Future, outcome: Any) -> None:
    if future.done():  # the client went away and the request was cancelled
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class Batcher:
    """A queue and one worker thread in front of ``run_batch``."""

    def __init__(
        self,
        run_batch: RunBatch,
        *,
        max_batch: int = 16,
        max_wait_s: float = 0.002,
        max_queue: int | None = None,
        name: str = "verisum-judge",
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.run_batch = run_batch
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.max_queue = max_queue
        self.name = name
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = False
        #: Counters for /health and tests: batches run and jobs in them.
        self.batches = 0
        self.jobs = 0
        self.largest_batch = 0

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> "Batcher":
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
            self._thread.start()
        return self

    def close(self, timeout: float | None = 30.0) -> None:
        """Finish the queued jobs, then stop the worker."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._closed

    # -- use -----------------------------------------------------------------------------
    async def submit(self, key: Hashable, item: Any) -> Any:
        """Queue ``item`` under ``key`` and wait for its outcome (raised if an exception)."""
        if self._closed:
            raise BatcherClosed("the server is shutting down")
        if self.max_queue is not None and self._queue.qsize() >= self.max_queue:
            raise BatcherFull(f"the server is busy: {self.max_queue} requests are already waiting; retry later")
        loop = asyncio.get_running_loop()
        job = _Job(key=key, item=item, loop=loop, future=loop.create_future())
        self._queue.put(job)
        return await job.future

    # -- the worker ----------------------------------------------------------------------
    def _collect(self, first: _Job) -> tuple[list[_Job], bool]:
        jobs = [first]
        stop = False
        deadline = time.monotonic() + self.max_wait_s
        while len(jobs) < self.max_batch:
            try:
                remaining = deadline - time.monotonic()
                nxt = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is _STOP:
                stop = True
                break
            jobs.append(nxt)
        return jobs, stop

    def _work(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is _STOP:
                break
            jobs, stop = self._collect(first)
            groups: dict[Hashable, list[_Job]] = {}
            for job in jobs:
                groups.setdefault(job.key, []).append(job)
            for key, group in groups.items():
                live = [j for j in group if not j.future.done()]
                if not live:
                    continue
                self.batches += 1
                self.jobs += len(live)
                self.largest_batch = max(self.largest_batch, len(live))
                try:
                    outcomes = list(self.run_batch(key, [j.item for j in live]))
                    if len(outcomes) != len(live):
                        raise RuntimeError(f"run_batch returned {len(outcomes)} outcomes for {len(live)} jobs")
                except BaseException as exc:  # noqa: BLE001 - every waiting request must hear of it
                    outcomes = [exc] * len(live)
                for job, outcome in zip(live, outcomes):
                    try:
                        job.loop.call_soon_threadsafe(_settle, job.future, outcome)
                    except RuntimeError:  # the event loop is gone (shutdown)
                        pass
        # Anything still queued after the stop signal is answered rather than left hanging.
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not _STOP:
                try:
                    job.loop.call_soon_threadsafe(_settle, job.future, BatcherClosed("the server is shutting down"))
                except RuntimeError:
                    pass
