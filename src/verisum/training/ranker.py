"""Fit the extractive writer's sentence ranker on stories with reference highlights.

    verisum train ranker --references ../shared/data/news/cnndm_dev.jsonl   # -> src/verisum/models/highlights-ranker.json

Every candidate sentence of a story (``ExtractiveWriter._eligible``) gets the features of
:func:`verisum.highlights.ranker.sentence_features` and a label: 1 when the greedy ROUGE-1
oracle picks it (up to three sentences, added while they raise ROUGE-1 F1 against the
reference), else 0. A logistic regression (:class:`verisum.calibration.Calibrator`) is fitted
on them.

Before fitting on every story it prints the honest estimate: repeated k-fold cross-validation
(folds of stories), ROUGE-1 F1 of the writer's first three candidates (no checker) with the
ranker fitted on the other folds, beside the hand-set score on the same stories; with
``--printed``, also the ROUGE-1 of the bullets ``write_highlights`` prints after the embedded
checker has vetted them. The written file records the figures. Needs no torch: about a minute
on 2 cores (two with ``--printed``).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Sequence

__all__ = ["Story", "prepare", "oracle_labels", "fit", "first_three_rouge1", "cross_validate",
           "cross_validate_printed", "main"]


class Story:
    """One story's candidate sentences, their features and oracle labels."""

    def __init__(self, id: str, article: str, reference: Sequence[str], features, labels) -> None:
        self.id, self.article, self.reference = id, article, tuple(reference)
        self.features, self.labels = features, labels


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


def prepare(references, progress=None) -> list[Story]:
    """Features and labels of every story that has candidate sentences."""
    from ..document import Document
    from ..evidence import content_words
    from ..highlights.extractive import ExtractiveWriter, tfidf_centrality
    from ..highlights.ranker import sentence_features

    writer = ExtractiveWriter(ranker=None)
    stories = []
    for n, ref in enumerate(references, 1):
        doc = Document(ref.article)
        eligible = writer._eligible(doc)
        if eligible:
            bags = [Counter(content_words(t)) for _, _, t in eligible]
            feats = sentence_features(eligible, bags, tfidf_centrality(bags), len(doc.sentences))
            labels = oracle_labels([t for _, _, t in eligible], ref.rouge_reference)
            stories.append(Story(ref.id, ref.article, ref.rouge_reference, feats, labels))
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


def cross_validate(stories: Sequence[Story], *, folds: int = 5, repeats: int = 3, l2: float = 1.0,
                   seed: int = 0) -> list[float]:
    """ROUGE-1 of the ranker fitted on the other folds, one figure per repeat (stories shuffled)."""
    out = []
    for rep in range(repeats):
        order = list(stories)
        random.Random(seed + rep).shuffle(order)
        total = 0.0
        for k in range(folds):
            held = order[k::folds]
            train = [s for s in order if s not in held]
            total += len(held) * first_three_rouge1(held, fit(train, l2))
        out.append(total / len(order))
    return out


def cross_validate_printed(references, stories: Sequence[Story], *, folds: int = 5, l2: float = 1.0,
                           seed: int = 0, n: int = 3) -> tuple[float, float]:
    """ROUGE-1 of the bullets ``write_highlights`` prints (the embedded checker vetting them),
    with the ranker fitted on the other folds, and with the hand-set score: (learned, hand-set)."""
    from ..checker import Checker
    from ..highlights.evaluate import evaluate_highlights, VERISUM

    checker = Checker()
    by_id = {r.id: r for r in references}
    order = list(stories)
    random.Random(seed).shuffle(order)

    def rouge1(refs, ranker) -> float:
        report = evaluate_highlights(refs, checker=checker, n=n, writer_params={"ranker": ranker})
        return next(r.rouge1 for r in report.rows if r.system == VERISUM)

    learned = hand = 0.0
    for k in range(folds):
        held = order[k::folds]
        refs = [by_id[s.id] for s in held]
        learned += len(held) * rouge1(refs, fit([s for s in order if s not in held], l2))
        hand += len(held) * rouge1(refs, None)
    return learned / len(order), hand / len(order)


def main(argv: Sequence[str] | None = None) -> int:
    from ..errors import InputError
    from ..highlights.evaluate import read_references
    from ..highlights.ranker import DEFAULT_RANKER

    ap = argparse.ArgumentParser(prog="verisum train ranker", description=__doc__.split("\n\n")[0])
    ap.add_argument("--references", action="append", required=True, type=Path,
                    help='JSONL of {"id", "article", "highlights": [...]} (repeatable)')
    ap.add_argument("--out", type=Path, default=DEFAULT_RANKER, help="where to write the ranker (default: the shipped one)")
    ap.add_argument("--l2", type=float, default=1.0, help="L2 penalty of the logistic regression")
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds (of stories)")
    ap.add_argument("--repeats", type=int, default=3, help="cross-validation repeats (0: fit without the estimate)")
    ap.add_argument("--printed", action="store_true",
                    help="also cross-validate the printed bullets (write_highlights with the embedded checker; slower)")
    args = ap.parse_args(argv)
    if args.folds < 2:
        ap.error("--folds must be 2 or more")

    references = [r for path in args.references for r in read_references(path)]
    tty = sys.stderr.isatty()

    def progress(n: int, total: int) -> None:
        if tty:
            print(f"\rfeatures and oracle labels: {n}/{total}", end="" if n < total else "\n", file=sys.stderr)

    stories = prepare(references, progress)
    if (args.repeats > 0 or args.printed) and len(stories) < args.folds:
        raise InputError(f"{len(stories)} stories with candidate sentences: too few for {args.folds}-fold "
                         "cross-validation (give more, or --repeats 0 to fit without the estimate)")
    if not any(y for s in stories for y in s.labels) or all(y for s in stories for y in s.labels):
        raise InputError("the oracle labels are all the same (no sentence, or every sentence, matches the "
                         "references): nothing to learn from")
    positives = sum(sum(s.labels) for s in stories)
    print(f"{len(stories)} stories, {sum(len(s.labels) for s in stories)} candidate sentences, "
          f"{positives} picked by the ROUGE-1 oracle")
    record = {"trained_on": [p.name for p in args.references], "stories": len(stories), "label": "greedy ROUGE-1 oracle, at most 3"}
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


def _estimate_and_fit(args: argparse.Namespace, references, stories: Sequence[Story], record: dict, tty: bool):
    """Print (and record) the cross-validated figures asked for, then fit on every story."""
    if args.repeats > 0:
        if tty:
            print(f"cross-validating ({args.repeats} x {args.folds} folds) ...", file=sys.stderr)
        hand = first_three_rouge1(stories, None)
        cv = cross_validate(stories, folds=args.folds, repeats=args.repeats, l2=args.l2)
        print(f"ROUGE-1 F1 of the first three candidates (no checker): hand-set score {hand:.2f}; "
              f"learned ranker {statistics.mean(cv):.2f} ({args.repeats} x {args.folds}-fold CV: "
              + ", ".join(f"{x:.2f}" for x in cv) + ")")
        record.update(hand_set_rouge1=round(hand, 2), cv_rouge1=round(statistics.mean(cv), 2),
                      cv=f"{args.repeats} x {args.folds}-fold by story")
    if args.printed:
        if tty:
            print(f"cross-validating the printed bullets ({args.folds} folds, embedded checker) ...", file=sys.stderr)
        learned, hand = cross_validate_printed(references, stories, folds=args.folds, l2=args.l2)
        print(f"ROUGE-1 F1 of the printed bullets ({args.folds}-fold CV, embedded checker): "
              f"hand-set score {hand:.2f}; learned ranker {learned:.2f}")
        record.update(printed_hand_set_rouge1=round(hand, 2), printed_cv_rouge1=round(learned, 2))
    return fit(stories, args.l2)


if __name__ == "__main__":
    sys.exit(main())
