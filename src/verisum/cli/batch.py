"""``verisum batch check|highlights INPUT OUTPUT``: a thin layer over :func:`verisum.batch.run_batch`."""

from __future__ import annotations

import contextlib
from typing import Any, Callable

import click

from .common import (
    CheckerOptions,
    handle_errors,
    judge_options,
    limit_options,
    progress_reporter,
)
from .highlights import build_checker_and_writer, writer_options

__all__ = ["batch"]


@click.group("batch")
def batch() -> None:
    """Check every summary, or write highlights for every article, of JSONL or Parquet files,
    on this machine or on a Ray cluster.

    INPUT is a file, a folder or a glob of .jsonl / .parquet files (on Ray, any path pyarrow
    reads: s3://, gs://, hdfs://); OUTPUT is a folder of parts, created if missing. Every input
    record gives exactly one output row: its result, or an error row. JSONL parts hold the
    lines `check --jsonl` writes; Parquet parts the columns id, line, status, score, code,
    error and result (that JSON). A summary goes to standard error at the end.

    \b
    Examples:
      verisum batch check records.jsonl out/
      verisum batch check 'data/*.parquet' out/ --format parquet --engine ray --workers 8
      verisum batch check s3://bucket/records/ s3://bucket/checked/ --engine ray --address auto --resume
      verisum batch highlights articles.jsonl highlights/ -n 3

    Exit codes: 0 every record done and supported; 1 something unsupported or contradicted
    (highlights: an article with no bullet); 2 bad usage, or any record that could not be done.
    """


def _batch_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("input_path", metavar="INPUT"),
        click.argument("output", metavar="OUTPUT"),
        click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
                     help="local: this process, no Ray needed; ray: Ray Data over an actor pool."),
        click.option("--address", default=None, metavar="ADDRESS",
                     help="--engine ray: the cluster (auto, ray://host:10001); none starts a local Ray."),
        click.option("--workers", type=click.IntRange(1), default=1, show_default=True,
                     help="--engine ray: workers in the pool; each loads the model once."),
        click.option("--cpus-per-worker", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
                     help="--engine ray: CPUs each worker reserves (and the embedded judge's threads)."),
        click.option("--gpus-per-worker", type=click.FloatRange(min=0.0), default=0.0, show_default=True,
                     help="--engine ray: GPUs each worker reserves (e.g. --backend hf --judge-param device=cuda)."),
        click.option("--batch-size", type=click.IntRange(1), default=32, show_default=True,
                     help="Records handed to a worker at a time."),
        click.option("--format", "output_format", type=click.Choice(["jsonl", "parquet"]), default="jsonl",
                     show_default=True, help="Format of the output parts."),
        click.option("--input-format", type=click.Choice(["jsonl", "parquet"]), default=None,
                     help="Format of INPUT [default: from the file extensions]."),
        click.option("--resume", is_flag=True,
                     help="Skip the records whose id is already in OUTPUT (continue an interrupted run)."),
        click.option("--rows-per-file", type=click.IntRange(1), default=10_000, show_default=True,
                     help="--engine local: rows per output part."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _run(job: Any, input_path: str, output: str, label: str, **flags: Any) -> None:
    """Run ``job``; ``flags`` are the shared batch flags of :func:`_batch_options`, by name."""
    from ..batch import run_batch

    engine = flags["engine"]
    if engine == "local" and (flags["address"] is not None or flags["workers"] != 1 or flags["gpus_per_worker"]):
        raise click.UsageError("--address, --workers and --gpus-per-worker are for --engine ray")
    # The local engine draws verisum's progress bar; Ray draws its own (one per operator).
    with (progress_reporter(label) if engine == "local" else contextlib.nullcontext()) as progress:
        summary = run_batch(input_path, output, job, progress=progress, **flags)
    click.echo(f"verisum: batch: {summary.format()}", err=True)
    raise SystemExit(summary.exit_code())


@batch.command("check")
@_batch_options
@judge_options
@limit_options
@handle_errors
def batch_check(input_path: str, output: str, options: CheckerOptions, max_bytes: int, max_bullets: int,
                **flags: Any) -> None:
    """Check the summary of every record {"id", "doc", "summary"} of INPUT into OUTPUT.

    Takes every checker flag that `verisum check` takes; the rows are `check --jsonl`'s."""
    from ..batch import BatchJob

    job = BatchJob("check", options.build(max_bytes=max_bytes, max_bullets=max_bullets),
                   max_bytes=max_bytes, max_bullets=max_bullets)
    _run(job, input_path, output, "checking", **flags)


@batch.command("highlights")
@_batch_options
@writer_options
@limit_options
@handle_errors
def batch_highlights(input_path: str, output: str, n: int, writer: str, base_url: str | None, model: str | None,
                     api_key: str | None, max_rounds: int, timeout: float, backend: str, judge_model: str | None,
                     options: CheckerOptions, max_bytes: int, max_bullets: int, **flags: Any) -> None:
    """Write highlights for the article of every record {"id", "doc"} of INPUT into OUTPUT.

    Takes the flags of `verisum highlights`; the rows are `highlights --jsonl`'s."""
    from ..batch import BatchJob

    checker, writer_params = build_checker_and_writer(writer, base_url, model, api_key, timeout, backend,
                                                      judge_model, options, max_bytes, max_bullets)
    job = BatchJob("highlights", checker, n=n, writer=writer, writer_params=writer_params,
                   max_rounds=max_rounds, max_bytes=max_bytes, max_bullets=max_bullets)
    _run(job, input_path, output, "writing highlights", **flags)
