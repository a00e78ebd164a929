"""Fit the extractive writer's sentence ranker on stories with reference summaries.

    D=../shared/data/news      # writes src/verisum/models/highlights-ranker.json
    verisum train ranker --references $D/cnndm_dev.jsonl --references $D/newsroom_eval.jsonl --references $D/writer_summaries_eval.jsonl --printed

Every candidate sentence of a story (``ExtractiveWriter._eligible``) gets the features of
:func:`verisum.highlights.ranker.sentence_features` and a label: 1 when the greedy ROUGE-1
oracle picks it (up to three sentences, added while they raise ROUGE-1 F1 against the
reference), else 0. A logistic regression (:class:`verisum.calibration.Calibrator`) is fitted
on them. Records are ``{"id", "article"}`` with the reference as ``"highlights": [...]``
(bullets), ``"reference": "..."``, or ``"references"`` / ``"writer_summaries": [...]``
(several; the first is used).

Why several sources: fitted on CNN/DailyMail alone, the ranker learns DailyMail's habits (a
long-winded first sentence, photo captions that restate it) and puts other news' lead sentence
down; pooled with Newsroom and freelance-writer references it gains less on CNN/DM but loses
nothing elsewhere (the README's Highlights section has the figures).

Before fitting on every story it prints the honest estimate, per source file: repeated k-fold
cross-validation (folds of stories, each file split alike), ROUGE-1 F1 of the writer's first
three candidates (no checker) with the ranker fitted on the other folds, beside the hand-set
score on the same stories; with ``--printed``, also the ROUGE-1 of the bullets
``write_highlights`` prints after the embedded checker has vetted them. The written file
records the figures. Needs no torch: a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from pathlib import Path
from typing import Any, Sequence

__all__ = ["Story", "read_stories", "prepare", "oracle_labels", "fit", "first_three_rouge1", "cross_validate",
           "cross_validate_printed", "main"]

class Story:
    """One story's candidate sentences, their features and oracle labels; ``source`` is the
    file it came from."""

    def __init__(self, id: str, article: str, reference: Sequence[str], features, labels, source: str = "") -> None:
        self.id, self.article, self.reference = id, article, tuple(reference)
        self.features, self.labels, self.source = features, labels, source


def read_stories(path: str | Path) -> list[Any]:
    """``Reference`` records of a JSONL file whose reference is ``highlights``, ``reference``,
    ``references`` or ``writer_summaries``; ids are prefixed with the file name, so that two
    files may reuse ids."""
    from ..errors import BadRecord, InputError
    from ..records import SOURCE_KEYS
    from ..highlights.evaluate import Reference, read_json_objects

    name = Path(path).name
    out = []
    for no, obj in read_json_objects(path):
        article = next((obj[k] for k in SOURCE_KEYS if k in obj), None)
        if not isinstance(article, str) or not article.strip():
            raise BadRecord(f"{path} line {no}: missing the \"article\" text")
        ref = obj.get("highlights")
        if ref is None and isinstance(obj.get("reference"), str):
            ref = [obj["reference"]]
        for key in ("references", "writer_summaries"):
            if ref is None and isinstance(obj.get(key), list) and obj[key]:
                ref = [obj[key][0]]
        if isinstance(ref, str):
            ref = [ref]
        if not isinstance(ref, list) or not ref or not all(isinstance(x, str) and x.strip() for x in ref):
            raise BadRecord(f"{path} line {no}: no reference: give \"highlights\" (a list of strings), "
                            "\"reference\", or \"references\"")
        tok = obj.get("highlights_tokenized") if "highlights" in obj else None
        out.append(Reference(
            id=f"{name}:{obj.get('id', no)}", article=article, highlights=tuple(ref),
            highlights_tokenized=tuple(tok) if isinstance(tok, list) and tok else None,
        ))
    if not out:
        raise InputError(f"{path} holds no records")
    return out


def oracle_labels(texts: Sequence[str], reference: Sequence[str], k: int = 3) -> list[int]:
    """1 for the sentences the greedy ROUGE-1 oracle picks (at most ``k``), else 0."""
    from ..highlights.evaluate import rouge_scores

    chosen: list[int] = []
    best = 0.0
    for _ in range(k):
        pick = None
        for j, t in enumerate(texts):
            if j in chosen:
                continue
            score = rouge_scores([texts[c] for c in chosen] + [t], reference)[0]
            if score > best:
                best, pick = score, j
        if pick is None:
            break
        chosen.append(pick)
    return [int(j in chosen) for j in range(len(texts))]


def prepare(references, progress=None, source: str = "") -> list[Story]:
    """Features and labels of every story that has candidate sentences."""
    from ..document import Document
    from ..highlights.extractive import ExtractiveWriter

    writer = ExtractiveWriter(ranker=None)
    stories = []
    for n, ref in enumerate(references, 1):
        eligible, _, feats = writer.ranker_features(Document(ref.article))
        if eligible:
            labels = oracle_labels([t for _, _, t in eligible], ref.rouge_reference)
            stories.append(Story(ref.id, ref.article, ref.rouge_reference, feats, labels, source))
        if progress:
            progress(n, len(references))
    return stories


def fit(stories: Sequence[Story], l2: float = 1.0):
    from ..calibration import Calibrator
    from ..highlights.ranker import FEATURES

    return Calibrator(FEATURES, l2=l2).fit(
        [f for s in stories for f in s.features], [y for s in stories for y in s.labels]
    )


def first_three_rouge1(stories: Sequence[Story], ranker) -> float:
    """Mean ROUGE-1 F1 (percent) of the writer's first three candidates; ``ranker`` None = hand-set."""
    from ..document import Document
    from ..highlights.evaluate import rouge_scores
    from ..highlights.extractive import ExtractiveWriter

    writer = ExtractiveWriter(ranker=ranker)
    scores = []
    for s in stories:
        candidates = writer.propose(Document(s.article), 3).candidates
        scores.append(rouge_scores([c.text for c in candidates[:3]], s.reference)[0])
    return 100 * statistics.mean(scores) if scores else 0.0


def _folds(stories: Sequence[Story], folds: int, seed: int) -> list[list[Story]]:
    """Stories split into ``folds`` groups, each source file shuffled and dealt out alike."""
    out: list[list[Story]] = [[] for _ in range(folds)]
    for source in dict.fromkeys(s.source for s in stories):
        group = [s for s in stories if s.source == source]
        random.Random(seed).shuffle(group)
        for i, s in enumerate(group):
            out[i % folds].append(s)
    return out


def _by_source(stories: Sequence[Story]) -> dict[str, list[Story]]:
    out: dict[str, list[Story]] = {}
    for s in stories:
        out.setdefault(s.source, []).append(s)
    return out


def cross_validate(stories: Sequence[Story], *, folds: int = 5, repeats: int = 3, l2: float = 1.0,
                   seed: int = 0) -> dict[str, list[float]]:
    """Per source: ROUGE-1 of the ranker fitted on the other folds, one figure per repeat."""
    out: dict[str, list[float]] = {}
    for rep in range(repeats):
        split = _folds(stories, folds, seed + rep)
        totals: dict[str, float] = {}
        for k, held in enumerate(split):
            model = fit([s for j, part in enumerate(split) if j != k for s in part], l2)
            for source, group in _by_source(held).items():
                totals[source] = totals.get(source, 0.0) + len(group) * first_three_rouge1(group, model)
        for source, group in _by_source(stories).items():
            out.setdefault(source, []).append(totals.get(source, 0.0) / len(group))
    return out


def cross_validate_printed(references, stories: Sequence[Story], *, folds: int = 5, l2: float = 1.0,
                           seed: int = 0, n: int = 3) -> dict[str, tuple[float, float]]:
    """Per source: ROUGE-1 of the bullets ``write_highlights`` prints (the embedded checker
    vetting them) with the ranker fitted on the other folds, and with the hand-set score."""
    from ..checker import Checker
    from ..highlights.evaluate import VERISUM, evaluate_highlights

    checker = Checker()
    by_id = {r.id: r for r in references}

    def rouge1(group: Sequence[Story], ranker) -> float:
        report = evaluate_highlights([by_id[s.id] for s in group], checker=checker, n=n,
                                     writer_params={"ranker": ranker})
        return next(r.rouge1 for r in report.rows if r.system == VERISUM)

    learned: dict[str, float] = {}
    hand: dict[str, float] = {}
    split = _folds(stories, folds, seed)
    for k, held in enumerate(split):
        model = fit([s for j, part in enumerate(split) if j != k for s in part], l2)
        for source, group in _by_source(held).items():
            learned[source] = learned.get(source, 0.0) + len(group) * rouge1(group, model)
            hand[source] = hand.get(source, 0.0) + len(group) * rouge1(group, None)
    sizes = {source: len(group) for source, group in _by_source(stories).items()}
    return {source: (learned[source] / sizes[source], hand[source] / sizes[source]) for source in sizes}


def main(argv: Sequence[str] | None = None) -> int:
    from ..errors import InputError
    from ..highlights.ranker import DEFAULT_RANKER

    ap = argparse.ArgumentParser(prog="verisum train ranker", description=__doc__.split("\n\n")[0])
    ap.add_argument("--references", action="append", required=True, type=Path,
                    help='JSONL of {"id", "article"} with "highlights": [...], "reference" or "references" '
                         "(repeatable; figures are given per file)")
    ap.add_argument("--out", type=Path, default=DEFAULT_RANKER, help="where to write the ranker (default: the shipped one)")
    ap.add_argument("--l2", type=float, default=1.0, help="L2 penalty of the logistic regression")
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds (of stories)")
    ap.add_argument("--repeats", type=int, default=3, help="cross-validation repeats (0: fit without the estimate)")
    ap.add_argument("--printed", action="store_true",
                    help="also cross-validate the printed bullets (write_highlights with the embedded checker; slower)")
    args = ap.parse_args(argv)
    if args.folds < 2:
        ap.error("--folds must be 2 or more")

    tty = sys.stderr.isatty()
    references, stories = [], []
    for path in args.references:
        refs = read_stories(path)

        def progress(n: int, total: int, name: str = path.name) -> None:
            if tty:
                print(f"\r{name}: features and oracle labels {n}/{total}", end="" if n < total else "\n",
                      file=sys.stderr)

        references += refs
        stories += prepare(refs, progress, source=path.name)
    if (args.repeats > 0 or args.printed) and len(stories) < args.folds:
        raise InputError(f"{len(stories)} stories with candidate sentences: too few for {args.folds}-fold "
                         "cross-validation (give more, or --repeats 0 to fit without the estimate)")
    if not any(y for s in stories for y in s.labels) or all(y for s in stories for y in s.labels):
        raise InputError("the oracle labels are all the same (no sentence, or every sentence, matches the "
                         "references): nothing to learn from")
    positives = sum(sum(s.labels) for s in stories)
    print(f"{len(stories)} stories, {sum(len(s.labels) for s in stories)} candidate sentences, "
          f"{positives} picked by the ROUGE-1 oracle")
    record: dict[str, Any] = {
        "trained_on": {name: len(group) for name, group in _by_source(stories).items()},
        "stories": len(stories),
        "label": "greedy ROUGE-1 oracle, at most 3",
    }
    try:
        ranker = _estimate_and_fit(args, references, stories, record, tty)
    except ValueError as exc:  # a fold (or the whole set) without both labels
        raise InputError(f"cannot fit the ranker on these references: {exc}") from None
    state = json.loads(ranker.to_json())
    state.update(record)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def _estimate_and_fit(args: argparse.Namespace, references, stories: Sequence[Story],
                      record: dict[str, Any], tty: bool):
    """Print (and record) the cross-validated figures asked for, per source, then fit on every story."""
    figures: dict[str, dict[str, Any]] = {name: {} for name in _by_source(stories)}
    if args.repeats > 0:
        if tty:
            print(f"cross-validating ({args.repeats} x {args.folds} folds) ...", file=sys.stderr)
        cv = cross_validate(stories, folds=args.folds, repeats=args.repeats, l2=args.l2)
        print(f"ROUGE-1 F1 of the first three candidates (no checker; {args.repeats} x {args.folds}-fold CV):")
        for name, group in _by_source(stories).items():
            hand = first_three_rouge1(group, None)
            print(f"  {name}: hand-set score {hand:.2f}; learned ranker {statistics.mean(cv[name]):.2f} ("
                  + ", ".join(f"{x:.2f}" for x in cv[name]) + ")")
            figures[name].update(hand_set=round(hand, 2), learned=round(statistics.mean(cv[name]), 2))
        record["cv"] = f"{args.repeats} x {args.folds}-fold by story, each file split alike"
    if args.printed:
        if tty:
            print(f"cross-validating the printed bullets ({args.folds} folds, embedded checker) ...", file=sys.stderr)
        printed = cross_validate_printed(references, stories, folds=args.folds, l2=args.l2)
        print(f"ROUGE-1 F1 of the printed bullets ({args.folds}-fold CV, embedded checker):")
        for name, (learned, hand) in printed.items():
            print(f"  {name}: hand-set score {hand:.2f}; learned ranker {learned:.2f}")
            figures[name].update(printed_hand_set=round(hand, 2), printed_learned=round(learned, 2))
    if any(figures.values()):
        record["rouge1"] = figures
    return fit(stories, args.l2)


if __name__ == "__main__":
    sys.exit(main())
