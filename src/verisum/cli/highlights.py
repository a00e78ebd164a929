"""``verisum highlights`` and ``verisum eval-highlights``: thin wrappers over verisum.highlights."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

import click

from ..io import open_binary, split_seed
from ..records import RecordError, iter_lines, read_records
from .common import (
    EXIT_ERROR,
    EXIT_FOUND,
    EXIT_OK,
    CheckerOptions,
    decision_options,
    handle_errors,
    limit_options,
    open_output,
    progress_reporter,
    read_input,
)

__all__ = ["highlights", "eval_highlights"]


def writer_options(fn: Any) -> Any:
    options = [
        click.option("-n", "n", type=click.IntRange(1, 20), default=3, show_default=True,
                     help="Bullets to write (fewer when fewer pass the checker)."),
        click.option("--writer", type=click.Choice(["extractive", "llm"]), default="extractive", show_default=True,
                     help="extractive: offline, picks and repairs article sentences; llm: an OpenAI-compatible "
                          "chat endpoint writes them and rewrites rejected ones."),
        click.option("--base-url", default=None, envvar="VERISUM_BASE_URL", metavar="URL",
                     help="--writer llm (or --backend llm): endpoint base URL, e.g. http://127.0.0.1:8080/v1 "
                          "[env VERISUM_BASE_URL]."),
        click.option("--writer-model", "--model", "model", default=None, metavar="NAME",
                     help="--writer llm: the model name on the endpoint. The judge's model is --judge-model. "
                          "(--model is the older spelling, still accepted; without --writer llm it also names "
                          "the judge's model, as it did before.)"),
        click.option("--api-key", default=None, metavar="KEY",
                     help="llm: API key [env VERISUM_API_KEY, then OPENAI_API_KEY]."),
        click.option("--max-rounds", type=click.IntRange(0, 10), default=2, show_default=True,
                     help="--writer llm: rewrites of a rejected bullet before it is dropped."),
        click.option("--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
                     help="--writer llm: seconds to wait for each reply."),
        click.option("--backend", default="embedded", show_default=True, metavar="NAME",
                     help="Judge backend that checks every bullet: embedded, hf, llm, or any registered judge."),
        click.option("--judge-model", default=None, metavar="NAME_OR_PATH",
                     help="The judge's model (hf folder or id; llm model name) when --backend is not embedded."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return decision_options(fn)


def build_checker_and_writer(writer: str, base_url: str | None, model: str | None, api_key: str | None, timeout: float,
           backend: str, judge_model: str | None, options: CheckerOptions, max_bytes: int,
           max_bullets: int) -> tuple[Any, dict[str, Any]]:
    """(checker, writer_params) from the flags."""
    writer_params: dict[str, Any] = {}
    if writer == "llm":
        if not base_url:
            raise click.UsageError("--writer llm needs --base-url (e.g. http://127.0.0.1:8080/v1)")
        if not model:
            raise click.UsageError("--writer llm needs --model (the model name the endpoint serves)")
        writer_params = {"base_url": base_url, "model": model, "api_key": api_key, "timeout": timeout}
    judge_model = judge_model or (model if writer != "llm" else None)
    judge = dataclasses.replace(options, backend=backend, model=judge_model,
                                base_url=base_url if backend == "llm" else None,
                                api_key=api_key if backend == "llm" else None)
    return judge.build(max_bytes=max_bytes, max_bullets=max_bullets), writer_params


def _article_of(text: str) -> str:
    """The article of a file in verisum's form: any trailing "- " summary lines are left out."""
    seed = split_seed(text, require_summary=False)
    return seed.source if seed.source.strip() else text


@click.command("highlights")
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--jsonl", "jsonl", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
              help='Batch: JSONL records {"id", "doc" (or "article")} ("-" = stdin); one output line each.')
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default=None,
              help='Output: text ("- " lines, the seed\'s format) or json [default: text; json for --jsonl].')
@click.option("-o", "--output", default="-", show_default=True, metavar="PATH", help='Write here ("-" = stdout).')
@writer_options
@limit_options
@handle_errors
def highlights(file: str | None, jsonl: str | None, fmt: str | None, output: str, n: int, writer: str,
               base_url: str | None, model: str | None, api_key: str | None, max_rounds: int, timeout: float,
               backend: str, judge_model: str | None, options: CheckerOptions, max_bytes: int,
               max_bullets: int) -> None:
    """Write bullet highlights of an article; every bullet printed passed the checker.

    FILE is the article ("-" reads standard input); trailing "- " lines, if any, are ignored.
    The text output is "- " lines, so appending it to FILE gives a file `verisum check` reads.
    What was left out, and why, goes to standard error (and into --format json).

    \b
    Examples:
      verisum highlights article.txt -n 3
      verisum highlights article.txt --format json
      verisum highlights --jsonl articles.jsonl -o highlights.jsonl
      verisum highlights article.txt --writer llm --base-url http://127.0.0.1:8080/v1 --writer-model NAME

    Exit codes: 0 bullets written; 1 no candidate passed the checker (nothing printed);
    2 bad usage, unreadable input or a failed backend.
    """
    from ..highlights import write_highlights
    from ..schema import HighlightsResultModel

    checker, writer_params = build_checker_and_writer(writer, base_url, model, api_key, timeout, backend, judge_model, options,
                                    max_bytes, max_bullets)
    if jsonl is not None:
        if file is not None:
            raise click.UsageError("--jsonl takes no FILE")
        if fmt not in (None, "json"):
            raise click.UsageError("--jsonl writes JSON lines; --format must be json")
        raise SystemExit(_highlights_jsonl(jsonl, output, n, writer, writer_params, max_rounds, checker, max_bytes))
    if file is None:
        raise click.UsageError("give an article FILE (or - for standard input), or --jsonl FILE")
    article = _article_of(read_input(file, what="article", max_bytes=max_bytes))
    result = write_highlights(article, n, writer, checker, writer_params=writer_params, max_rounds=max_rounds)
    with open_output(output) as out:
        if (fmt or "text") == "json":
            out.write(HighlightsResultModel.from_result(result).model_dump_json(indent=2) + "\n")
        else:
            for h in result.highlights:
                out.write(f"- {h}\n")
            for d in result.dropped:
                click.echo(f"verisum: dropped: {d.text} ({d.reason})", err=True)
    if not result.highlights:
        click.echo("verisum: no candidate bullet passed the checker; nothing was printed", err=True)
    raise SystemExit(EXIT_OK if result.highlights else EXIT_FOUND)


def _highlights_jsonl(path: str, output: str, n: int, writer: str, writer_params: dict[str, Any],
                      max_rounds: int, checker: Any, max_bytes: int) -> int:
    from ..highlights import write_highlights_many
    from ..schema import ErrorModel, HighlightsResultModel

    worst = EXIT_OK
    with open_binary(path, stdin=sys.stdin.buffer) as stream, open_output(output) as out, \
            progress_reporter("writing highlights") as progress:
        records = read_records(iter_lines(stream, max_bytes), max_bytes=max_bytes, require_summary=False)
        for item in write_highlights_many(records, n, writer, checker, writer_params=writer_params,
                                          max_rounds=max_rounds, progress=progress):
            if isinstance(item, RecordError):
                line = ErrorModel.from_record_error(item).model_dump(mode="json")
                worst = EXIT_ERROR
            else:
                line = HighlightsResultModel.from_result(item).model_dump(mode="json")
                if not item.highlights:
                    worst = max(worst, EXIT_FOUND)
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            out.flush()
    return worst


@click.command("eval-highlights")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--systems", "systems_file", type=click.Path(dir_okay=False, exists=True), metavar="FILE",
              help='JSONL of published outputs {"id", "system", "summary"}; only the ids in FILE are used.')
@click.option("--predictions", type=click.Path(dir_okay=False), metavar="OUT",
              help='Write verisum\'s highlights as JSONL {"id", "highlights": [...]}.')
@click.option("--check-systems/--no-check-systems", default=True, show_default=True,
              help="Also check Lead-3's and the systems' sentences (the 'pass checker' column).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Use only the first N stories.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a Markdown table; json: the rows as JSON.")
@click.option("-o", "--output", default="-", show_default=True, metavar="PATH", help='Write here ("-" = stdout).')
@writer_options
@limit_options
@handle_errors
def eval_highlights(file: str, systems_file: str | None, predictions: str | None, check_systems: bool,
                    limit: int | None, fmt: str, output: str, n: int, writer: str, base_url: str | None,
                    model: str | None, api_key: str | None, max_rounds: int, timeout: float, backend: str,
                    judge_model: str | None, options: CheckerOptions, max_bytes: int, max_bullets: int) -> None:
    """Score verisum's highlights, Lead-3 and published systems against reference highlights.

    FILE is JSONL of {"id", "article", "highlights": [...]} (with "article_tokenized" and
    "highlights_tokenized", ROUGE uses those). Prints ROUGE-1/2/L F1 (rouge-score, stemming
    on; ROUGE-L is summary-level ROUGE-Lsum), the share of bullets that pass the checker, and
    seconds per article for verisum's writer (checking included).

    \b
    Example:
      verisum eval-highlights ../shared/data/news/cnndm_dev.jsonl \\
          --systems ../shared/data/news/system_outputs_dev.jsonl
    """
    from ..highlights.evaluate import evaluate_highlights, format_table, read_references, read_systems

    checker, writer_params = build_checker_and_writer(writer, base_url, model, api_key, timeout, backend, judge_model, options,
                                    max_bytes, max_bullets)
    refs = read_references(file)[:limit]
    systems = read_systems(systems_file, [r.id for r in refs]) if systems_file else None
    with progress_reporter("evaluating") as progress:
        report = evaluate_highlights(refs, checker=checker, n=n, writer=writer, writer_params=writer_params,
                                     systems=systems, check_systems=check_systems, progress=progress)
    if predictions:
        with open_output(predictions) as fh:
            for rid, hl in report.predictions:
                fh.write(json.dumps({"id": rid, "highlights": list(hl)}, ensure_ascii=False) + "\n")
    with open_output(output) as out:
        if fmt == "json":
            out.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
        else:
            out.write(format_table(report) + "\n")
    for rid, err in report.errors:
        click.echo(f"verisum: {rid}: {err}", err=True)
    raise SystemExit(EXIT_ERROR if report.errors else EXIT_OK)
