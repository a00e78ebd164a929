"""``verisum check``: one article and its summary, or a JSONL batch."""

from __future__ import annotations

import json
import sys
import click

from ..checker import Checker
from ..io import open_binary
from ..records import RecordError, iter_lines, read_records
from .common import (
    EXIT_ERROR,
    CheckerOptions,
    exit_code_for,
    handle_errors,
    judge_options,
    limit_options,
    open_output,
    progress_reporter,
    read_source_and_summary,
    source_options,
)

__all__ = ["check"]

@click.command("check")
@source_options('Batch: check JSONL records {"id", "doc", "summary"} ("-" = stdin); one output line each.')
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default=None,
              help="Output format [default: text; json for --jsonl].")
@click.option("-o", "--output", default="-", show_default=True, metavar="PATH", help='Write here ("-" = stdout).')
@judge_options
@limit_options
@handle_errors
def check(
    file: str | None,
    summary_file: str | None,
    summary_text: str | None,
    jsonl: str | None,
    fmt: str | None,
    output: str,
    options: CheckerOptions,
    max_bytes: int,
    max_bullets: int,
) -> None:
    """Check a summary against its source article.

    FILE is the article in verisum's plain-text form: an optional title line, the article,
    then the summary as the trailing lines that start with "- ", "* " or "• ". With
    --summary or --summary-text, all of FILE is the article. "-" reads standard input.

    \b
    Examples:
      verisum check article.txt
      verisum check article.txt --summary summary.txt --format json
      verisum check --jsonl records.jsonl -o results.jsonl

    Exit codes: 0 every sentence supported; 1 something unsupported or contradicted;
    2 bad usage, unreadable input or a failed backend (in a batch: any record that could
    not be checked).
    """
    checker = options.build(max_bytes=max_bytes, max_bullets=max_bullets)
    if jsonl is not None:
        if file is not None or summary_file is not None or summary_text is not None:
            raise click.UsageError("--jsonl takes no FILE, --summary or --summary-text")
        if fmt not in (None, "json"):
            raise click.UsageError("--jsonl writes JSON lines; --format must be json")
        raise SystemExit(_check_jsonl(checker, jsonl, output, max_bytes, max_bullets))
    source, summary = read_source_and_summary(file, summary_file, summary_text, max_bytes=max_bytes,
                                              max_bullets=max_bullets)
    result = checker.check(source, summary)
    fmt = fmt or "text"
    with open_output(output) as out:
        if fmt == "json":
            from ..schema import CheckResultModel

            out.write(CheckResultModel.from_result(result).model_dump_json(indent=2) + "\n")
        elif fmt == "html":
            from ..render.html import render_check_html

            out.write(render_check_html(result))
        else:
            from ..render.terminal import render_check

            render_check(result, out)
    raise SystemExit(exit_code_for([result]))


def _check_jsonl(checker: Checker, path: str, output: str, max_bytes: int, max_bullets: int) -> int:
    from ..schema import CheckResultModel, ErrorModel

    worst = 0  # 0 all supported < 1 something found < 2 a record could not be checked
    with open_binary(path, stdin=sys.stdin.buffer) as stream:
        items = read_records(iter_lines(stream, max_bytes), max_bytes=max_bytes, max_bullets=max_bullets)
        with open_output(output) as out, progress_reporter("checking") as progress:
            for item in checker.check_many(items, progress=progress):
                if isinstance(item, RecordError):
                    line = ErrorModel.from_record_error(item).model_dump(mode="json")
                    worst = EXIT_ERROR
                else:
                    line = CheckResultModel.from_result(item).model_dump(mode="json")
                    worst = max(worst, exit_code_for([item]))
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                out.flush()
    return worst
