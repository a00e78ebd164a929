"""Fit the embedded judge's combiner on labelled records and write it beside the model.

    verisum train combiner ../shared/data/bench-dev/*.jsonl --rows .train/rows.jsonl \
        --variant nli+novelty --out src/verisum/models/combiner.json

The rows are what ``verisum eval --protocol lodo --rows ROWS.jsonl`` collects (the judge on every
claim, the slow part); given an existing ``--rows`` file no model runs. The shipped combiner is
fitted on every record; the figures it is reported with come from the leave-one-dataset-out
run of the same rows (:mod:`verisum.lodo`), never from this in-sample fit. The file records the
variant, the encoder, the model's sha256 (so a stale combiner is noticed) and the LODO table.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from verisum import lodo
    from verisum.checker import Checker
    from verisum.evaluation import LabelledRecord, read_labelled
    from verisum.judges.base import PREMISE_RULES
    from verisum.judges.embedded import COMBINER_PATH, DEFAULT_MODEL_DIR, model_fingerprint

    ap = argparse.ArgumentParser(prog="verisum train combiner", description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", help="labelled JSONL records (not needed with an existing --rows)")
    ap.add_argument("--rows", required=True, help="collected rows: read if present, else collected and written")
    ap.add_argument("--variant", default="nli+novelty", choices=list(lodo.VARIANTS))
    ap.add_argument("--model-dir", default=None, help="the judge's model folder [the packaged one]")
    ap.add_argument("--out", default=str(COMBINER_PATH))
    ap.add_argument("--threshold-objective", choices=["mean", "worst"], default="mean",
                    help="the threshold maximises the sets' mean balanced accuracy, or the lowest one")
    ap.add_argument("--premises", choices=list(PREMISE_RULES), default=None,
                    help="the premise rule the combiner is fitted for [the model's config.json's "
                         "\"premises\", else the Checker's default]: the Checker reads the model this way")
    a = ap.parse_args(argv)

    if os.path.exists(a.rows):
        rows = lodo.read_rows(a.rows)
    else:
        if not a.files:
            ap.error("give the labelled files, or an existing --rows file")
        records = [r for r in read_labelled(a.files) if isinstance(r, LabelledRecord)]
        params = {"model_dir": a.model_dir} if a.model_dir else {}
        checker = Checker("embedded", judge_params=params)  # collecting judges every claim; no combiner runs
        rows = lodo.collect(checker, records)
        lodo.write_rows(a.rows, rows)
    from verisum.checker import JOIN_SETTLES, embedded_premises

    # Fitted on what the Checker reads: the model's premise rule (its config's, else the
    # Checker's default), applied to the collected rows.
    model_rule = embedded_premises(a.model_dir)
    premises = a.premises or model_rule
    if premises != model_rule:
        print(f"verisum train combiner: note: the model reads premises as {model_rule!r}; "
              f"set \"premises\": \"{premises}\" in its config.json for the Checker to read them as fitted",
              file=sys.stderr)
    rows = lodo.premise_rule(rows, premises)
    table, _ = lodo.evaluate(rows, a.variant, threshold_objective=a.threshold_objective)
    cal = lodo.fit(rows, a.variant, threshold_objective=a.threshold_objective)
    state = json.loads(cal.to_json())
    model_dir = Path(a.model_dir) if a.model_dir else DEFAULT_MODEL_DIR
    state.update({
        "variant": a.variant,
        "threshold_objective": a.threshold_objective,
        "encoder": "static",
        "fitted_on": f"{len(rows)} labelled records of {len({r['dataset'] for r in rows})} datasets "
                     "(verisum train combiner); figures: leave-one-dataset-out",
        "model_sha256": model_fingerprint(model_dir),
        "premises": premises, **({"join_settles": JOIN_SETTLES} if premises == "join_first" else {}),
        "lodo": [r.to_dict() for r in table],
    })
    Path(a.out).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    print(lodo.format_lodo({a.variant: table}))
    print(f"wrote {a.out}: features {', '.join(cal.features)}, threshold {cal.threshold:.4f}, "
          f"vetoes: {cal.vetoes}; premises {premises}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
