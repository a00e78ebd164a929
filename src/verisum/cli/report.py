"""``verisum report``: a page (or JSON) of what goes wrong across many results; thin over verisum.report."""

from __future__ import annotations

import sys

import click

from .common import handle_errors, open_output, progress_reporter

__all__ = ["report"]


@click.command("report")
@click.argument("results", nargs=-1, required=True)
@click.option("-o", "--output", default="-", show_default=True, metavar="PATH",
              help='Write the report here ("-" = stdout; HTML needs a file when stdout is a terminal).')
@click.option("--format", "fmt", type=click.Choice(["html", "json"]), default="html", show_default=True,
              help="html: one self-contained page; json: the same figures as data (report.schema.json).")
@click.option("--by", "by", multiple=True, metavar="FIELD",
              help="Compare groups by this field of the results or of the joined records (repeatable); "
                   "'file' is each result's file.")
@click.option("--records", "records", multiple=True, metavar="FILE",
              help="Input records (JSONL or Parquet, files, folders or globs) joined to the results by id: "
                   "their short fields (system, model, label ...) become groups; 'label' (1 faithful, 0 not) "
                   "adds the ROC curve, flagging by threshold and the reliability diagram.")
@click.option("--worst", type=click.IntRange(0), default=20, show_default=True,
              help="How many lowest-scored summaries to show with their evidence.")
@click.option("--top-words", type=click.IntRange(0), default=30, show_default=True,
              help="How many of the most frequent words at fault to list.")
@click.option("--type-field", default=None, metavar="FIELD",
              help="The field that names an error type [default: error_type, type or category].")
@click.option("--title", default="verisum report", show_default=True, help="The page's title.")
@handle_errors
def report(results: tuple[str, ...], output: str, fmt: str, by: tuple[str, ...], records: tuple[str, ...],
           worst: int, top_words: int, type_field: str | None, title: str) -> None:
    """Summarise many results: how many are flagged, which group is worst, what goes wrong.

    RESULTS are what `verisum check --jsonl`, `verisum batch check` (JSONL or Parquet parts)
    and `verisum eval --predictions` write: files, folders or globs; "-" reads standard input.
    A line that is not a result is counted and listed in the report, never fatal.

    \b
    Examples:
      verisum report results.jsonl -o report.html
      verisum report out/ --records inputs.jsonl --by system -o report.html
      verisum report out/ --format json -o report.json

    Exit codes: 0 the report was written; 2 bad usage, an unreadable input file, or no line to
    report on.
    """
    from ..errors import EmptyInput
    from ..report import build_report, render_report_html

    if fmt == "html" and output == "-" and sys.stdout.isatty():
        raise click.UsageError("an HTML report is a file: give -o report.html (or --format json)")
    with progress_reporter("reading results") as progress:
        rep = build_report(results, by=by, records=records, worst=worst, top_words=top_words,
                           type_field=type_field, progress=progress)
    h = rep.headline
    if h.lines == 0:
        raise EmptyInput(f"no result lines in {', '.join(results)}: nothing to report")
    with open_output(output) as out:
        if fmt == "json":
            out.write(rep.model_dump_json(indent=2) + "\n")
        else:
            out.write(render_report_html(rep, title=title))
    flagged = "" if h.flagged.share is None else f", {100 * h.flagged.share:.1f}% flagged"
    notes = [f"{h.results:,} results{flagged}"]
    if h.errors:
        notes.append(f"{h.errors:,} error rows")
    if h.unreadable:
        notes.append(f"{h.unreadable:,} unreadable lines (listed in the report)")
    if h.mixed_thresholds:
        notes.append("mixed thresholds (see the report)")
    where = "" if output == "-" else f" to {output}"
    click.echo(f"verisum: report{where}: " + "; ".join(notes), err=True)
