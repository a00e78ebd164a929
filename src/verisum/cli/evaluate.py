"""``verisum eval``, ``verisum calibrate`` and ``verisum bench``: thin over verisum.evaluation."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Sequence

import click

from .common import CheckerOptions, handle_errors, judge_options, open_output, premises_option, progress_reporter

if TYPE_CHECKING:
    from ..judges.base import PremiseRule

__all__ = ["eval_", "calibrate", "bench"]


def _load_records(files: Sequence[str], split: str) -> tuple[list, list]:
    """(records of the split, bad lines as (id, line, error))."""
    from ..evaluation import LabelledRecord, read_labelled

    records, bad = [], []
    for item in read_labelled(files):
        if isinstance(item, LabelledRecord):
            if split == "all" or item.split == split:
                records.append(item)
        else:
            bad.append(item)
    return records, bad


@click.command("eval")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--protocol", type=click.Choice(["auto", "lodo", "as-is"]), default="auto", show_default=True,
              help="lodo: leave one dataset out (the combiner and its threshold fitted on the other sets, "
                   "with the cosine floor and the novel-word span baseline beside every row); as-is: the "
                   "checker as configured on every record; auto: lodo when the records hold two or more "
                   "datasets.")
@click.option("--variant", "variants", multiple=True, metavar="NAME",
              help="lodo: combiner variant(s) to report (default all: nli, nli+novelty, nli+novelty+align).")
@click.option("--rows", "rows_path", type=click.Path(dir_okay=False), default=None, metavar="ROWS.jsonl",
              help="lodo: cache of the collected per-claim signals; read when it exists (its rows of the "
                   "records given; it must hold them all), written otherwise (a re-run then costs no model time).")
@click.option("--split", type=click.Choice(["val", "train", "all"]), default="all", show_default=True,
              help="Which part of the project's document split to use.")
@click.option("--threshold-objective", type=click.Choice(["mean", "worst"]), default="mean", show_default=True,
              help="lodo: the threshold maximises the training sets' mean balanced accuracy, or the lowest one.")
@click.option("--predictions", type=click.Path(dir_okay=False, allow_dash=True), default=None, metavar="OUT.jsonl",
              help='as-is: write one line per input record (of the chosen split), in input order: {"id", '
                   '"score", "label"} or {"id", "error"}.')
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=16, show_default=True, help="Records per model batch.")
@judge_options
@handle_errors
def eval_(
    files: tuple[str, ...],
    protocol: str,
    variants: tuple[str, ...],
    rows_path: str | None,
    split: str,
    threshold_objective: str,
    predictions: str | None,
    fmt: str,
    batch_size: int,
    options: CheckerOptions,
) -> None:
    """Evaluate the checker on labelled JSONL records.

    Records: {"id", "doc", "summary", "label" (1 faithful / 0 not), optional "spans",
    "dataset", "origin"}. Prints, per dataset: n, balanced accuracy at the threshold, ROC AUC,
    and character-level span F1 where records carry spans; under leave-one-dataset-out, each
    row is scored by a combiner fitted on the other datasets only.
    """
    from ..evaluation import format_table, mean_balanced_accuracy, predict, report

    from ..errors import InputError
    from ..lodo import VARIANTS

    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise InputError(f"unknown variant {unknown[0]!r}; choose from {', '.join(VARIANTS)}")
    records, bad = _load_records(files, split)
    if protocol == "auto":
        protocol = "lodo" if len({r.dataset for r in records}) >= 2 else "as-is"
    if protocol == "as-is" and (variants or rows_path or threshold_objective != "mean"):
        raise InputError("--variant, --rows and --threshold-objective belong to the leave-one-dataset-out protocol "
                         "(--protocol lodo), "
                         "which needs records of two or more datasets")
    if protocol == "lodo":
        _eval_lodo(records, bad, variants, rows_path, fmt, batch_size, options, threshold_objective)
        return
    checker = options.build()
    with progress_reporter("eval", len(records)) as progress:
        preds = predict(checker, records, batch_size=batch_size, progress=progress)
    if predictions:
        _write_predictions(predictions, files, split, records, preds)
    rows = report(records, preds)
    if fmt == "json":
        mean = mean_balanced_accuracy(rows)
        click.echo(json.dumps({
            "protocol": "as-is",
            "split": split,
            "threshold": checker.threshold_,
            "rows": [r.to_dict() for r in rows],
            "mean_balanced_accuracy": None if mean is None else round(100 * mean, 1),
            "bad_records": len(bad),
        }, indent=2))
    else:
        click.echo(format_table(rows))
        click.echo(f"threshold {checker.threshold_:.4f}; split {split}; {len(records)} records"
                   + (f"; {len(bad)} unreadable" if bad else ""))


def _percent(x: float | None) -> str:
    """A share as a percentage with one decimal, or "-" when there is none."""
    return "-" if x is None else f"{100 * x:.1f}"


def _cached_rows(cached: Sequence[dict], records: Sequence, rows_path: str) -> list[dict]:
    """The cached rows of exactly these records, in the cache's order: a cache collected on more
    files (or both sides of the split) serves any part of them; one that lacks some of these
    records was collected on others, and is refused rather than read as if it were theirs."""
    from ..errors import InputError

    wanted = {r.id for r in records}
    rows = [r for r in cached if r.get("id") in wanted]
    missing = wanted - {r["id"] for r in rows}
    if missing:
        raise InputError(f"{rows_path} holds no row for {len(missing)} of the {len(wanted)} records given "
                         f"(e.g. {sorted(missing)[0]!r}): it was collected on other files or another --split; "
                         "give those, or another --rows path to collect these")
    return rows


def _eval_lodo(records: Sequence, bad: Sequence, variants: Sequence[str], rows_path: str | None, fmt: str,
               batch_size: int, options: CheckerOptions, threshold_objective: str = "mean") -> None:
    import os

    from .. import lodo
    from ..errors import InputError

    if len({r.dataset for r in records}) < 2:
        raise InputError("leave-one-dataset-out needs records of two or more datasets; use --protocol as-is")
    rule = _configured_premises(options)
    if rows_path and os.path.exists(rows_path):
        rows = _cached_rows(lodo.read_rows(rows_path), records, rows_path)  # no model is loaded
    else:
        checker = options.build()
        with progress_reporter("collect", len(records)) as progress:
            rows = lodo.collect(checker, records, batch_size=batch_size, progress=progress)
        if rows_path:
            lodo.write_rows(rows_path, rows)
    collected = rows
    # The tables score what the Checker ships: its premise rule (the model's own, where its
    # config names one, else the default), read off the rows.
    rows = lodo.premise_rule(collected, rule)
    results, scored = {}, {}
    for v in variants or tuple(lodo.VARIANTS):
        results[v], scored[v] = lodo.evaluate(rows, v, threshold_objective=threshold_objective)
    errors = sum(1 for r in rows if r.get("error"))
    if fmt == "json":
        click.echo(json.dumps({
            "protocol": "lodo",
            "variants": {v: [r.to_dict() for r in rs] for v, rs in results.items()},
            "thresholds": {v: lodo.threshold_table(scored[v]) for v in results},
            "records": len(rows), "errors": errors, "bad_records": len(bad),
        }, indent=2))
        return
    click.echo(lodo.format_lodo(results))
    for v in results:
        click.echo(f"{v}: flagging unfaithful summaries (weakest claim below t), pooled held-out predictions:")
        for t in lodo.threshold_table(scored[v]):
            click.echo(f"  t={t['threshold']:.1f}  precision {t['flag_precision']:.3f}  recall {t['flag_recall']:.3f}"
                       f"  faithful passed {t['faithful_passed']:.3f}")
    if any(c.get("premises") for r in collected for c in r.get("claims") or ()):
        v = next(iter(results))
        click.echo(f"premises ({v}): every premise, the join first (single sentences only where the join "
                   f"does not settle the claim), the join only; same run (the tables above: {rule}):")
        for other in ("sentences", "join_first", "joined"):
            ruled = lodo.premise_rule(collected, other)
            table, _ = lodo.evaluate(ruled, v)
            pairs = [c["pairs"] for r in ruled for c in r.get("claims") or () if not c.get("verbatim")]
            b = [x.balanced_accuracy for x in table if x.balanced_accuracy is not None]
            a = [x.auc for x in table if x.auc is not None]
            click.echo(f"  {other:<11} mean BAcc {100 * sum(b) / max(len(b), 1):.1f}  mean AUC {sum(a) / max(len(a), 1):.3f}"
                       f"  judge pairs per claim {sum(pairs) / max(len(pairs), 1):.2f}  | "
                       + " ".join(f"{x.dataset} {100 * x.balanced_accuracy:.1f}" for x in table
                                  if x.balanced_accuracy is not None))
    if any(c.get("blamed") is not None for r in rows for c in r.get("claims") or ()):
        v = next(iter(results))
        rules = lodo.fault_rules(rows, v)
        if rules:
            click.echo(f"words at fault, character F1 by rule ({v}, claims the left-out combiner rejects):")
            cols = [k for k in next(iter(rules.values())) if k != "baseline"] + ["baseline"]
            width = max(16, *(len(k) + 2 for k in cols))
            click.echo(f"  {'set':<22}" + "".join(f"{k:>{width}}" for k in cols))
            for ds, f in rules.items():
                click.echo(f"  {ds:<22}" + "".join(f"{_percent(f.get(k)):>{width}}" for k in cols))
    click.echo(f"{len(rows)} records ({errors} could not be checked)" + (f"; {len(bad)} unreadable" if bad else ""))


def _configured_premises(options: CheckerOptions) -> str:
    """The premise rule a Checker from ``options`` uses, without loading its model: --premises,
    else the embedded model's config may name one; otherwise the Checker's default."""
    from ..checker import DEFAULT_PREMISES, embedded_premises

    if options.premises is not None:
        return options.premises
    if options.backend != "embedded":
        return DEFAULT_PREMISES
    return embedded_premises(options.judge_params().get("model_dir"))


def _write_predictions(path: str, files: Sequence[str], split: str, records: Sequence, preds: Sequence) -> None:
    """One line per input record in input order (with --split, per record of that split);
    unreadable lines give {"id", "error"}."""
    from ..evaluation import LabelledRecord, Prediction, read_labelled

    by_line = {(r.file, r.line): p for r, p in zip(records, preds)}
    with open_output(path) as out:
        for item in read_labelled(files):
            if isinstance(item, LabelledRecord):
                pred = by_line.get((item.file, item.line))
                if pred is None:
                    continue  # outside the chosen split
            else:
                rid, _line, err = item
                pred = Prediction(rid, error=str(err))
            out.write(json.dumps(pred.to_dict(), ensure_ascii=False) + "\n")


@click.command("calibrate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Where to save the calibration (JSON); use it with `verisum check --calibration FILE`.")
@click.option("--threshold-only", is_flag=True,
              help="Keep the shipped combiner; fit only its decision threshold (needs fewer records).")
@click.option("--split", type=click.Choice(["val", "train", "all"]), default="all", show_default=True)
@judge_options
@handle_errors
def calibrate(
    files: tuple[str, ...],
    output: str,
    threshold_only: bool,
    split: str,
    options: CheckerOptions,
) -> None:
    """Fit the combiner, its decision threshold and the judge's vetoes on your own labelled data.

    Records as for `verisum eval`. With fewer than 20 usable records (or --threshold-only) only
    the threshold is fitted, the shipped combiner's weights and vetoes kept. The result is a JSON
    file for `verisum check --calibration FILE`.
    """
    from ..errors import InputError
    from ..evaluation import calibrate as fit

    records, bad = _load_records(files, split)
    if not records:
        raise InputError("no readable labelled records in " + ", ".join(files))
    checker = options.build()
    with progress_reporter("calibrate", len(records)) as progress:
        cal = fit(checker, records, threshold_only=threshold_only, progress=progress)
    try:
        cal.save(output)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    click.echo(f"fitted on {len(records)} records: threshold {cal.threshold:.4f}, "
               f"features {', '.join(cal.features)}, vetoes: {cal.vetoes}; saved to {output}")


@click.command("bench")
@click.option("--model", "models", multiple=True, metavar="NAME_OR_PATH",
              help="The embedded model(s) to measure: fast, accurate or a folder [default: fast]; several are "
                   "measured one after the other, each in its own process, and printed side by side.")
@click.option("--records", type=click.IntRange(0), default=2000, show_default=True,
              help="Records in the batch-throughput run (0 skips it).")
@click.option("--runs", type=click.IntRange(1), default=30, show_default=True,
              help="Single checks timed for the latency figures.")
@click.option("--threads", type=click.IntRange(1), default=None,
              help="onnxruntime threads per model call [default: 1, with one call per CPU in parallel].")
@click.option("--batch-size", type=click.IntRange(1), default=16, show_default=True)
@click.option("--no-cold-start", is_flag=True, help="Skip the cold-start measurement (a fresh process).")
@click.option("--long-words", type=click.IntRange(0), default=50_000, show_default=True,
              help="Also check a source of this many words in full and report time and peak RSS (0 skips).")
@premises_option()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@handle_errors
def bench(models: tuple[str, ...], records: int, runs: int, threads: int | None, batch_size: int,
          no_cold_start: bool, long_words: int, premises: PremiseRule | None, as_json: bool) -> None:
    """Measure speed of the embedded checker: latency on a 500-word article with 3 highlights
    (median, p90), summary sentences per second on a batch, peak RSS, and cold start."""
    from ..checker import Checker
    from ..evaluation import bench as run, format_bench

    if len(models) > 1:
        _bench_each(models, records, runs, threads, batch_size, no_cold_start, long_words, premises, as_json)
        return
    params: dict = {"model_dir": models[0]} if models else {}

    def factory() -> Checker:
        return Checker(judge_params={**params, "intra_op_num_threads": threads}, premises=premises)

    result = run(factory, runs=runs, records=records, batch_size=batch_size,
                 cold_start=not no_cold_start, threads=threads, long_words=long_words, judge_params=params)
    result["model"] = models[0] if models else "fast"
    click.echo(json.dumps(result, indent=2) if as_json else format_bench(result))


def _bench_each(models: Sequence[str], records: int, runs: int, threads: int | None, batch_size: int,
                no_cold_start: bool, long_words: int, premises: PremiseRule | None, as_json: bool) -> None:
    """Each model in a process of its own (its own peak RSS), one after the other, side by side."""
    import subprocess
    import sys

    from ..errors import VerisumError

    results = {}
    for m in models:
        cmd = [sys.executable, "-m", "verisum", "bench", "--model", m, "--records", str(records), "--runs", str(runs),
               "--batch-size", str(batch_size), "--long-words", str(long_words), "--json"]
        if threads:
            cmd += ["--threads", str(threads)]
        if no_cold_start:
            cmd.append("--no-cold-start")
        if premises:
            cmd += ["--premises", premises]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise VerisumError(f"bench --model {m} failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
        results[m] = json.loads(proc.stdout)
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    keys = [("latency_median_ms", "median ms, 500 words + 3 highlights"), ("latency_p90_ms", "p90 ms"),
            ("batch_sentences_per_s", "summary sentences/s (batch)"), ("peak_rss_mb", "peak RSS MB"),
            ("cold_start_s", "cold start s"), ("long_source_seconds", "50,000-word source s"),
            ("premises", "premises")]
    width = max(len(t) for _, t in keys)
    click.echo(f"{'':<{width}}  " + "  ".join(f"{m:>12}" for m in models))
    for k, title in keys:
        click.echo(f"{title:<{width}}  " + "  ".join(f"{str(results[m].get(k, '-')):>12}" for m in models))
