"""``verisum perturb``: labelled unfaithful variants of a faithful summary, as JSONL."""

from __future__ import annotations

import json
import sys
from typing import Sequence

import click

from ..document import join_bullets
from ..io import open_binary
from ..records import iter_lines, read_records
from .common import (
    EXIT_ERROR,
    EXIT_OK,
    handle_errors,
    limit_options,
    open_output,
    read_source_and_summary,
    source_options,
)

__all__ = ["perturb"]


def _types(value: str | None) -> list[str] | None:
    if value is None:
        return None
    from ..errors import InputError
    from ..perturb import parse_types

    try:
        return parse_types(value)
    except InputError as exc:
        raise click.UsageError(f"--types: {exc}") from exc


@click.command("perturb")
@source_options('Batch: JSONL records {"id", "source", "summary"} of faithful summaries ("-" = stdin).')
@click.option("--types", "types_", metavar="T1,T2", default=None,
              help="Error types to make [default: all]: entity, number, negation, predicate, agent, "
                   "place_time, invented_clause, discourse, fused, recombined.")
@click.option("--per-type", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Variants per error type and summary.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same variants.")
@click.option("--with-original", is_flag=True,
              help="Also write each original summary as a faithful record (label 1), so the output alone "
                   "can be scored with `verisum eval`.")
@click.option("-o", "--output", default="-", show_default=True, metavar="PATH", help='Write here ("-" = stdout).')
@limit_options
@handle_errors
def perturb(file: str | None, summary_file: str | None, summary_text: str | None, jsonl: str | None,
            types_: str | None, per_type: int, seed: int, with_original: bool, output: str,
            max_bytes: int, max_bullets: int) -> None:
    """Write labelled unfaithful variants of a faithful summary.

    Each variant changes one summary sentence with one error of a known type (FRANK's
    typology) and is written as a JSONL record that `verisum eval` reads: "label": 0, the
    changed characters in "spans", and "error_type", "before" and "after".

    \b
    Examples:
      verisum perturb article.txt > variants.jsonl
      verisum perturb --jsonl faithful.jsonl --per-type 2 --seed 7 -o variants.jsonl
      verisum perturb article.txt --with-original -o variants.jsonl && verisum eval variants.jsonl

    Exit codes: 0 written; 2 bad usage or unreadable input (in a batch: any record that
    could not be read; the others are still written).
    """
    from ..perturb import perturb as make_variants

    types = _types(types_)
    worst = EXIT_OK
    with open_output(output) as out:
        def emit(records_id: str | None, source: str, summary: str | Sequence[str]) -> None:
            if not isinstance(summary, str):
                summary = join_bullets(summary)
            if with_original:
                out.write(json.dumps({"id": records_id, "doc": source, "summary": summary, "label": 1},
                                     ensure_ascii=False) + "\n")
            for v in make_variants(source, summary, types=types, per_type=per_type, seed=seed, id=records_id):
                out.write(json.dumps(v.to_record(), ensure_ascii=False) + "\n")

        if jsonl is not None:
            if file is not None or summary_file is not None or summary_text is not None:
                raise click.UsageError("--jsonl takes no FILE, --summary or --summary-text")
            from ..records import RecordError
            from ..schema import ErrorModel

            with open_binary(jsonl, stdin=sys.stdin.buffer) as stream:
                for rec in read_records(iter_lines(stream, max_bytes), max_bytes=max_bytes, max_bullets=max_bullets):
                    if isinstance(rec, RecordError):
                        # Nothing is lost: an unreadable record is an error line in its place.
                        out.write(json.dumps(ErrorModel.from_record_error(rec).model_dump(mode="json")) + "\n")
                        worst = EXIT_ERROR
                        continue
                    emit(rec.id, rec.source, rec.summary)
            raise SystemExit(worst)
        source, summary = read_source_and_summary(file, summary_file, summary_text, max_bytes=max_bytes,
                                                  max_bullets=max_bullets)
        emit(None, source, summary)
    raise SystemExit(worst)
