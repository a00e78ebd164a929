"""``verisum fix`` (propose supported edits of a summary) and ``verisum eval-fix`` (measure it)."""

from __future__ import annotations

import difflib
import json
import random
import sys
from typing import IO, Any

import click

from ..errors import InputError
from ..io import open_binary
from ..records import iter_lines, read_records
from .common import (
    EXIT_ERROR,
    EXIT_FOUND,
    EXIT_OK,
    CheckerOptions,
    handle_errors,
    judge_options,
    limit_options,
    open_output,
    progress_reporter,
    read_source_and_summary,
    source_options,
)

__all__ = ["fix", "eval_fix"]


def _rewriter(writer: str, base_url: str | None, writer_model: str | None, api_key: str | None) -> Any:
    if writer == "none":
        if base_url is not None or writer_model is not None:
            raise click.UsageError("--writer-base-url and --writer-model need --writer llm")
        return None
    if not base_url or not writer_model:
        raise click.UsageError("--writer llm needs --writer-base-url and --writer-model")
    from ..highlights.llm import LLMWriter

    return LLMWriter(base_url, writer_model, api_key=api_key)


@click.command("fix")
@source_options('Batch: fix JSONL records {"id", "source", "summary"} ("-" = stdin); one output line each.')
@click.option("--format", "fmt", type=click.Choice(["text", "json", "diff"]), default=None,
              help="Output format [default: text; json for --jsonl]. diff: a unified diff of the summary.")
@click.option("--writer", type=click.Choice(["none", "llm"]), default="none", show_default=True,
              help="llm: also ask an OpenAI-compatible model to rewrite a failing sentence from its evidence "
                   "(its rewrite is re-checked like any edit).")
@click.option("--writer-base-url", default=None, metavar="URL", help="--writer llm: the endpoint's base URL.")
@click.option("--writer-model", default=None, metavar="NAME", help="--writer llm: the model name on the endpoint.")
@click.option("--max-rounds", type=click.IntRange(1, 10), default=3, show_default=True,
              help="Edits built on each other per sentence (two wrong facts need two).")
@click.option("--min-kept", type=click.FloatRange(0.0, 1.0), default=0.8, show_default=True,
              help="Share of a sentence's words an edit that changes words must keep.")
@click.option("-o", "--output", default="-", show_default=True, metavar="PATH", help='Write here ("-" = stdout).')
@judge_options
@limit_options
@handle_errors
def fix(file: str | None, summary_file: str | None, summary_text: str | None, jsonl: str | None, fmt: str | None,
        writer: str, writer_base_url: str | None, writer_model: str | None, max_rounds: int, min_kept: float,
        output: str, options: CheckerOptions, max_bytes: int, max_bullets: int) -> None:
    """Propose the smallest edits that make a summary supported, each re-checked.

    For every summary sentence the checker does not support: drop the unsupported clause,
    or put the evidence's words in place of the words at fault, and keep the smallest edit
    the checker then supports; failing that, propose deleting the sentence. Prints each
    edit (before -> after, why, the evidence with offsets) and the corrected summary.
    Same inputs as `verisum check`.

    \b
    Examples:
      verisum fix article.txt
      verisum fix article.txt --format diff
      verisum fix --jsonl records.jsonl -o fixed.jsonl

    Exit codes: 0 nothing needed fixing; 1 edits were proposed; 2 bad usage, unreadable
    input or a failed backend (in a batch: any record that could not be fixed).
    """
    checker = options.build(max_bytes=max_bytes, max_bullets=max_bullets)
    rewriter = _rewriter(writer, writer_base_url, writer_model, options.api_key)
    kwargs = {"rewriter": rewriter, "max_rounds": max_rounds, "min_kept": min_kept}
    if jsonl is not None:
        if file is not None or summary_file is not None or summary_text is not None:
            raise click.UsageError("--jsonl takes no FILE, --summary or --summary-text")
        if fmt not in (None, "json"):
            raise click.UsageError("--jsonl writes JSON lines; --format must be json")
        raise SystemExit(_fix_jsonl(checker, jsonl, output, max_bytes, max_bullets, kwargs))
    source, summary = read_source_and_summary(file, summary_file, summary_text, max_bytes=max_bytes,
                                              max_bullets=max_bullets)
    result = checker.fix(source, summary, **kwargs)
    with open_output(output) as out:
        if fmt == "json":
            from ..schema import FixResultModel

            out.write(FixResultModel.from_result(result).model_dump_json(indent=2) + "\n")
        elif fmt == "diff":
            name = "summary" if file == "-" else file
            out.writelines(difflib.unified_diff(
                _ended(result.check.summary.text).splitlines(keepends=True), _ended(result.text).splitlines(keepends=True),
                fromfile=f"a/{name}", tofile=f"b/{name}"))
        else:
            _render_text(result, out)
    raise SystemExit(EXIT_FOUND if result.edits else EXIT_OK)


def _ended(text: str) -> str:
    return text if text.endswith("\n") or not text else text + "\n"


def _render_text(result: Any, out: IO[str]) -> None:
    if not result.edits:
        out.write(f"verisum: nothing to fix: every sentence is supported ({result.check.score:.2f})\n")
        return
    deleted = sum(e.deleted for e in result.edits)
    out.write(f"verisum: {len(result.edits) - deleted} sentence(s) edited, {deleted} proposed for deletion; "
              f"the corrected summary is {'supported' if result.ok else 'still not supported'}\n\n")
    for e in result.edits:
        out.write(f"{e.kind.replace('_', ' ')} ({e.score_before:.2f}"
                  + (f" -> {e.score_after:.2f}" if e.score_after is not None else "") + ")\n")
        out.write(f"  - {e.before}\n")
        out.write(f"  + {e.after}\n" if e.after else "  + (delete this sentence)\n")
        out.write(f"    why: {e.reason}\n")
        for ev in e.evidence[:2]:
            out.write(f"    evidence source[{ev.span.start}:{ev.span.end}] “{_short(ev.span.text)}”\n")
        out.write("\n")
    out.write("corrected summary:\n")
    out.write(_ended(result.text) if result.text else "(nothing is left)\n")


def _short(text: str, n: int = 300) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _fix_jsonl(checker: Any, path: str, output: str, max_bytes: int, max_bullets: int, kwargs: dict) -> int:
    from ..records import RecordError
    from ..errors import InternalError, VerisumError
    from ..schema import ErrorModel, FixResultModel

    worst = EXIT_OK
    with open_binary(path, stdin=sys.stdin.buffer) as stream, open_output(output) as out, \
            progress_reporter("fixing") as progress:
        items = read_records(iter_lines(stream, max_bytes), max_bytes=max_bytes, max_bullets=max_bullets)
        for done, rec in enumerate(items, start=1):
            if not isinstance(rec, RecordError):
                try:
                    result = checker.fix(rec.source, rec.summary, id=rec.id, **kwargs)
                    line = FixResultModel.from_result(result).model_dump(mode="json")
                    worst = max(worst, EXIT_FOUND if result.edits else EXIT_OK)
                except VerisumError as exc:
                    rec = RecordError(rec.id, rec.line, exc)
                except Exception as exc:  # noqa: BLE001 - a bug costs only its own record
                    rec = RecordError(rec.id, rec.line, InternalError.wrap(exc))
            if isinstance(rec, RecordError):
                line = ErrorModel.from_record_error(rec).model_dump(mode="json")
                worst = EXIT_ERROR
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            out.flush()
            if progress:
                progress(done, None)
    return worst


@click.command("eval-fix")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-n", "n", type=click.IntRange(1), default=200, show_default=True,
              help="Faithful summaries to perturb and fix, and unfaithful ones to fix (each drawn by --seed).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-o", "--output", default="-", show_default=True, metavar="PATH", help='Write here ("-" = stdout).')
@judge_options
@handle_errors
def eval_fix(files: tuple[str, ...], n: int, seed: int, fmt: str, output: str, options: CheckerOptions) -> None:
    """Measure fix on labelled JSONL records ({"id", "source", "summary", "label"}).

    N faithful summaries (label 1) are broken by `verisum perturb` (one error each) and
    fixed: how many the checker catches, how many the fix restores exactly and how many it
    makes supported, per error type. N unfaithful summaries (label 0) are fixed as they are:
    how many corrected summaries the checker supports, and how big the edits are.
    """
    from ..evaluation import LabelledRecord, read_labelled
    from ..edits import evaluate_fix

    records = [r for r in read_labelled(files) if isinstance(r, LabelledRecord)]
    faithful = [r for r in records if r.label == 1]
    unfaithful = [r for r in records if r.label == 0]
    if not faithful and not unfaithful:
        raise InputError("no labelled records (label 0 or 1) in the given files")
    rng = random.Random(seed)
    faithful = rng.sample(faithful, min(n, len(faithful)))
    unfaithful = rng.sample(unfaithful, min(n, len(unfaithful)))
    checker = options.build()
    with progress_reporter("fixing", total=len(faithful) + len(unfaithful)) as progress:
        ev = evaluate_fix(checker, faithful, unfaithful, seed=seed, progress=progress)
    with open_output(output) as out:
        if fmt == "json":
            from dataclasses import asdict

            out.write(json.dumps(asdict(ev), indent=2, ensure_ascii=False) + "\n")
            return
        pct = lambda a, b: f"{100 * a / b:.1f}%" if b else "-"  # noqa: E731
        out.write(f"perturbed faithful summaries: {ev.perturbed}; caught by the checker {ev.caught} "
                  f"({pct(ev.caught, ev.perturbed)})\n")
        out.write(f"  of those caught: restored exactly {ev.restored} ({pct(ev.restored, ev.caught)}), "
                  f"made supported {ev.perturbed_supported} ({pct(ev.perturbed_supported, ev.caught)})\n")
        out.write(f"  {'type':16} {'n':>4} {'caught':>7} {'restored':>9} {'supported':>10}\n")
        for t, s in ev.by_type.items():
            out.write(f"  {t:16} {s['n']:>4} {s['caught']:>7} {s['restored']:>9} {s['supported']:>10}\n")
        out.write(f"unfaithful summaries: {ev.unfaithful}; flagged {ev.unfaithful_flagged}; corrected and then "
                  f"supported {ev.unfaithful_supported} ({pct(ev.unfaithful_supported, ev.unfaithful_flagged)})\n")
        out.write(f"sentences edited {ev.sentences_edited}, proposed for deletion {ev.sentences_deleted}; "
                  f"word-changing edits keep {100 * ev.mean_kept:.1f}% of a sentence's words and add "
                  f"{100 * ev.mean_new:.1f}% new ones on average\n")
