"""The probes behind the MPNet card's "After stage 2" section: where a judge's rows fail, and the
cheap levers measured on them by the leave-one-dataset-out protocol (``verisum.lodo``).

Not part of verisum: a record of how those figures were made, runnable again on this machine.

    R=~/.cache/verisum/train; B=../shared/data/bench-dev
    python scripts/probe_after_stage2.py sources $R/rows-mpnet-s2.jsonl $R/rows-minilm.jsonl --data $B
    python scripts/probe_after_stage2.py levers $R/rows-mpnet-s2.jsonl --other $R/rows-minilm.jsonl --data $B
    # evidence probes: collect again with retrieval changed (the stage-2 export: 50 / 10 minutes)
    python scripts/probe_after_stage2.py collect --budget 400 --model DIR --out $R/rows-mpnet-s2-b400.jsonl $B/*.jsonl
    python scripts/probe_after_stage2.py collect --windows --base $R/rows-mpnet-s2.jsonl --model DIR \\
        --out $R/rows-mpnet-s2-win.jsonl $B/*.jsonl
    python scripts/probe_after_stage2.py compare $R/rows-mpnet-s2.jsonl $R/rows-mpnet-s2-b400.jsonl
    python scripts/probe_after_stage2.py faults $R/rows-minilm.jsonl $R/rows-mpnet-s2.jsonl --data $B
    python scripts/probe_after_stage2.py leads ../shared/data/news/corpus.jsonl
    python scripts/probe_after_stage2.py caseless $R/rows-minilm.jsonl $R/rows-mpnet-s3.jsonl --data $B
    python scripts/probe_after_stage2.py ceiling $R/rows-minilm.jsonl $R/rows-nli-mpnet-s2r.jsonl $R/rows-nli-mpnet-s4.jsonl
    python scripts/probe_after_stage2.py sides $R/crossfit-minilm-by-document/rows.jsonl $R/rows-minilm.jsonl --data $B

(``$B/*.jsonl`` stands for the ten sets of the protocol: WiCE left out.) ``collect`` changes the
Checker's retrieval for the run by replacing ``Checker._search``: a probe, not a feature.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
from collections import defaultdict

import numpy as np

from verisum import lodo
from verisum.evaluation import balanced_accuracy, claim_scores, roc_auc

TURN = re.compile(r"^\s*(?:\[[A-Za-z][\w\- ]{0,24}\]|[A-Z][\w.'\- ]{0,30}:)")


def is_transcript(doc: str) -> bool:
    """A speaker opens 30% or more of the lines ("Lola: ..."), or a "[speaker]" tag recurs: the
    rule these probes were run with, kept so their figures reproduce. The shipped rule,
    ``Document.is_transcript``, came after them and also finds a chat's turns run into one line."""
    lines = [line for line in doc.splitlines() if line.strip()]
    turns = sum(bool(TURN.match(line)) for line in lines) / max(len(lines), 1)
    return turns >= 0.3 or len(re.findall(r"\[[A-Za-z][\w\- ]{0,24}\]", doc)) >= 3


def records(data: str) -> dict[str, dict]:
    out = {}
    for path in sorted(glob.glob(os.path.join(os.path.expanduser(data), "*.jsonl"))):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                d = json.loads(line)
                out.setdefault(d["id"], d)
    return out


def usable(path: str, rule: str = "join_first", rows: list[dict] | None = None) -> list[dict]:
    """The labelled rows of ``path`` (or ``rows`` already read from it) as premise ``rule`` reads them."""
    rows = lodo.premise_rule(rows if rows is not None else lodo.read_rows(os.path.expanduser(path)), rule)
    return [r for r in rows if r.get("claims") and r.get("label") is not None]


def weakest(r: dict) -> float:
    return min(c["features"]["logit_supported"] for c in r["claims"])


def sources(a: argparse.Namespace) -> None:
    """Per set and source: the share of faithful summaries whose weakest claim the judge reads as
    more likely unsupported than supported, and the AUC of that claim's log-odds (and the floor's)."""
    recs = records(a.data)
    tables = [{r["id"]: r for r in usable(p)} for p in a.rows]
    groups = defaultdict(list)
    for rid, r in tables[0].items():
        groups[(r["dataset"], recs.get(rid, {}).get("origin"))].append(rid)
    # the checker's own flag: the weakest claim under the combiner fitted without the record's set
    cals = [{ds: lodo.fit([r for r in t.values() if r["dataset"] != ds], "nli+novelty")
             for ds in {r["dataset"] for r in t.values()}} for t in tables]
    for (ds, origin), ids in sorted(groups.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        y = [tables[0][i]["label"] for i in ids]
        cells = []
        for t, cal in zip(tables, cals):
            w = [weakest(t[i]) for i in ids]
            alarm = np.mean([x < 0 for x, lab in zip(w, y) if lab == 1]) if sum(y) else float("nan")
            flagged = [lodo.summary_score(t[i], cal[ds])[1] < cal[ds].threshold for i in ids]
            passed = np.mean([not f for f, lab in zip(flagged, y) if lab == 1]) if sum(y) else float("nan")
            auc = roc_auc(w, y) if 0 < sum(y) < len(y) else float("nan")
            cells.append(f"false alarms {alarm:.2f} AUC {auc:.3f} checker passes {passed:.2f} of the faithful")
        floor = roc_auc([tables[0][i]["floor"] for i in ids], y) if 0 < sum(y) < len(y) else float("nan")
        print(f"{ds:20} {str(origin):12} n={len(ids):4} faithful={sum(y):3} | " + " | ".join(cells) + f" | floor AUC {floor:.3f}")


def _summary_fit(rows: list[dict], cols: list[str]) -> float:
    """Mean LODO balanced accuracy of a summary-level logistic fit over the left-out combiner's
    weakest-claim and mean-sentence log-odds, the floor and the number of claims."""
    from verisum.calibration import Calibrator
    from verisum.evaluation import balanced_accuracy
    from verisum.features import logit

    accs = []
    for ds in sorted({r["dataset"] for r in rows}):
        train = [r for r in rows if r["dataset"] != ds]
        test = [r for r in rows if r["dataset"] == ds]
        cal = lodo.fit(train, "nli+novelty")

        def feats(r: dict, cal=cal) -> dict:
            m, w = lodo.summary_score(r, cal)
            clip = lambda p: logit(min(max(p, 1e-4), 1 - 1e-4))  # noqa: E731
            return {"w": clip(w), "m": clip(m), "floor": r["floor"], "ln": float(np.log(len(r["claims"])))}

        ftr, fte = [feats(r) for r in train], [feats(r) for r in test]
        ytr, g = [r["label"] for r in train], [r["dataset"] for r in train]
        counts: dict = defaultdict(int)
        for d, lab in zip(g, ytr):
            counts[(d, lab)] += 1
        c2 = Calibrator(cols).fit(ftr, ytr, sample_weight=[1.0 / counts[(d, lab)] for d, lab in zip(g, ytr)])
        c2.fit_threshold(c2.score_many(ftr), ytr, groups=g)
        accs.append(balanced_accuracy([int(x >= c2.threshold) for x in c2.score_many(fte)], [r["label"] for r in test]))
    return 100 * float(np.mean(accs))


def _log_median_sentence(doc: str) -> float:
    from verisum.document import Document

    return float(np.log(np.median([len(s.text) for s in Document(doc).sentences] or [1])))


def _mean(out: list) -> str:
    return f"{100 * np.mean([r.balanced_accuracy for r in out]):.1f} / {np.mean([r.auc for r in out]):.3f}"


def levers(a: argparse.Namespace) -> None:
    """The levers table: each a ten-set mean of LODO balanced accuracy / AUC (`nli+novelty`)."""
    recs = records(a.data)
    for path in [a.rows] + ([a.other] if a.other else []):
        rows = usable(path)
        print(f"== {path}")
        print("as shipped (join first)            ", _mean(lodo.evaluate(rows, "nli+novelty")[0]))
        for cols in (["w"], ["w", "m"], ["w", "ln"], ["w", "floor"]):
            print(f"summary-level fit over {'+'.join(cols):12}", f"{_summary_fit(rows, cols):.1f}")
        print("threshold for the worst set        ", _mean(lodo.evaluate(rows, "nli+novelty", threshold_objective="worst")[0]))
        print("the join only                      ", _mean(lodo.evaluate(usable(path, "joined"), "nli+novelty")[0]))
        for name, value, sign in (("src_transcript", lambda d: float(is_transcript(d)), +1),
                                  ("src_sentence_chars", _log_median_sentence, -1)):
            for r in rows:
                for c in r["claims"]:
                    c["features"][name] = value(recs[r["id"]]["doc"])
            lodo.VARIANTS[f"probe:{name}"] = lodo.VARIANTS["nli+novelty"] + ((name, sign),)
            print(f"+ {name:32}", _mean(lodo.evaluate(rows, f"probe:{name}")[0]))
    if a.other:  # both judges' log-odds in one combiner
        mine, theirs = usable(a.rows), {r["id"]: r for r in usable(a.other)}
        for r in mine:
            for c, o in zip(r["claims"], theirs[r["id"]]["claims"]):
                c["features"]["other_logit_supported"] = o["features"]["logit_supported"]
                c["features"]["other_logit_contradicted"] = o["features"]["logit_contradicted"]
        lodo.VARIANTS["probe:both"] = lodo.VARIANTS["nli+novelty"] + (("other_logit_supported", +1), ("other_logit_contradicted", -1))
        out, _ = lodo.evaluate(mine, "probe:both")
        print("both judges in one combiner        ", _mean(out), "features kept:", ", ".join(out[0].features))


def caseless(a: argparse.Namespace) -> None:
    """Lowercased summaries (FRANK, Polytope, CoGenSumm, Goyal21, XSumFaith): ``novel_ents``
    counts capitalised novel words, so it is 0 there. Two stand-ins for it on those summaries,
    measured LODO: every novel word that is not a number or date ("all"), or only those that are
    not a whole word of the judge's uncased vocabulary ("vocab": "tamang", "comey", not "london")."""
    from verisum.features import _DATE_WORDS, _NUMBER_WORDS
    from verisum.resources import model_path

    with open(model_path("nli-minilm") / "tokenizer.json", encoding="utf-8") as fh:
        vocab = json.load(fh)["model"]["vocab"]
    recs = records(a.data)

    def lowercased(text: str) -> bool:
        return any(ch.isalpha() for ch in text) and not any(ch.isupper() for ch in text)

    def stand_in(rows: list[dict], rule: str) -> list[dict]:
        out = []
        for r in rows:
            text = recs[r["id"]]["summary"]
            if rule == "as shipped" or not lowercased(text):
                out.append(r)
                continue
            claims = []
            for c in r["claims"]:
                words = [text[x:y] for x, y in c["novel"] if c["start"] <= x < c["end"]]
                ents = [w for w in words if not w[0].isdigit() and w.lower() not in _NUMBER_WORDS and w.lower() not in _DATE_WORDS]
                if rule == "vocab":
                    ents = [w for w in ents if w.lower().split("'")[0] not in vocab]
                claims.append({**c, "features": {**c["features"], "novel_ents": float(len(ents))}})
            out.append({**r, "claims": claims})
        return out

    for path in a.rows:
        rows = usable(path)
        for rule in ("as shipped", "all", "vocab"):
            out, _ = lodo.evaluate(stand_in(rows, rule), "nli+novelty")
            nine = 100 * np.mean([x.balanced_accuracy for x in out if x.dataset != "xsumfaith"])
            print(f"{os.path.basename(path):24} {rule:10} {_mean(out)} (9 without XSumFaith: {nine:.1f}) "
                  + " ".join(f"{x.dataset[:6]}={100 * x.balanced_accuracy:.1f}" for x in out))


def compare(a: argparse.Namespace) -> None:
    read = {path: lodo.read_rows(os.path.expanduser(path)) for path in a.rows}
    for rule in ("join_first", "joined", "sentences"):
        for path in a.rows:
            rows = usable(path, rule, read[path])
            for variant in ("nli+novelty", "nli+novelty+align"):
                out, _ = lodo.evaluate(rows, variant)
                print(f"{rule:10} {os.path.basename(path):28} {variant:18} {_mean(out)} "
                      + " ".join(f"{r.dataset[:6]}={100 * r.balanced_accuracy:.1f}" for r in out))


def _merged(spans: list, text: str, gap: int) -> list:
    """Novel words up to ``gap`` words apart (no comma or stop between) joined into one phrase."""
    out: list = []
    for start, end in sorted(spans):
        between = text[out[-1][1]:start] if out else ""
        if out and len(re.findall(r"\w+", between)) <= gap and not re.search(r"[,.]", between):
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def faults(a: argparse.Namespace) -> None:
    """Character F1 of the words at fault on claims scoring below 0.5 under the left-out combiner,
    by rule, beside the novel-word baseline, per span-annotated set."""
    recs = records(a.data)
    for path in a.rows:
        rows = usable(path)
        for ds in sorted({r["dataset"] for r in rows if r.get("spans") is not None}):
            cal = lodo.fit([r for r in rows if r["dataset"] != ds], "nli+novelty")
            test = [r for r in rows if r["dataset"] == ds]
            preds: dict = defaultdict(list)
            for r in test:
                got: dict = defaultdict(list)
                for c, x in zip(r["claims"], claim_scores(r["claims"], cal)):
                    if x >= 0.5 or c.get("verbatim"):
                        continue
                    novel = [tuple(w) for w in c["novel"]]
                    got["novel words"] += novel
                    got["novel, gaps of 2 joined"] += _merged(novel, recs[r["id"]]["summary"], 2)
                    got["whole claim"].append((c["start"], c["end"]))
                for rule in ("novel words", "novel, gaps of 2 joined", "whole claim"):
                    preds[rule].append(got[rule])
            base = lodo._spanf1(test, [[tuple(w) for c in r["claims"] for w in c["novel"]] for r in test])
            print(f"{os.path.basename(path):24} {ds:20} " + " ".join(f"{k} {100 * lodo._spanf1(test, v):.1f} |" for k, v in preds.items())
                  + f" baseline {100 * base:.1f}")


def leads(a: argparse.Namespace) -> None:
    """Each claim of a story's first sentence against the evidence the Checker retrieves from the
    rest: how many use a name or number the rest never does, and how many no word it lacks."""
    import random

    from verisum import Checker
    from verisum.document import Document
    from verisum.errors import VerisumError
    from verisum.faults import novel_words

    by_source = defaultdict(list)
    with open(a.corpus, encoding="utf-8") as fh:
        for line in fh:
            o = json.loads(line)
            if len(o.get("text") or "") > 400:
                by_source[o.get("source", "")[:12]].append(o["text"])
    checker = Checker().load()
    for source, texts in by_source.items():
        random.Random(0).shuffle(texts)
        counts: dict = defaultdict(int)
        for text in texts[:400]:
            sentences = Document(text).sentences
            if len(sentences) < 5 or not 40 <= len(sentences[0].text) <= 300:
                continue
            try:
                an = checker._prepare(None, text[sentences[0].end:].strip(), sentences[0].text)
            except VerisumError:
                continue
            for c in an.claims:
                novel = novel_words(c.claim, an.source, an.index)
                named = [w for w in novel if any(ch.isdigit() for ch in w.text)
                         or (w.text[:1].isupper() and w.start != c.claim.sentence.start)]
                counts["a name or number the rest never uses" if named else
                       "no word the rest lacks" if not novel else "other words the rest lacks"] += 1
        print(f"{source:12} stories {len(texts):6}, claims of 400 leads: {dict(counts)}")


def collect(a: argparse.Namespace) -> None:
    from verisum import Checker
    from verisum.checker import Checker as CheckerClass
    from verisum.evaluation import LabelledRecord, read_labelled
    from verisum.evidence import Evidence

    original = CheckerClass._search

    def budget(self, source, queries, k):  # the best sentences until the evidence holds a.budget chars
        out = []
        for ev, st in original(self, source, queries, 8):
            keep, chars = [], 0
            for e in ev:
                if len(keep) >= k and chars >= a.budget:
                    break
                keep.append(e)
                chars += len(e.span.text)
            out.append((keep, st))
        return out

    def windows(self, source, queries, k):  # each retrieved turn with the turns either side
        at = {s.start: i for i, s in enumerate(source.sentences)}
        out = []
        for ev, st in original(self, source, queries, k):
            seen, keep = set(), []
            for e in ev:
                i = at.get(e.span.start)
                near = [e.span] if i is None else source.sentences[max(0, i - 1):i + 2]
                for sp in near:
                    if sp.start not in seen:
                        seen.add(sp.start)
                        keep.append(Evidence(sp, e.score if sp.start == e.span.start else e.score * 0.99))
            out.append((keep, st))
        return out

    recs = [r for r in read_labelled(a.files) if isinstance(r, LabelledRecord)]
    if a.windows:
        recs = [r for r in recs if is_transcript(r.doc)]
    CheckerClass._search = windows if a.windows else budget  # type: ignore[method-assign]
    params = {} if a.model == "fast" else {"model_dir": a.model}
    new = {r["id"]: r for r in lodo.collect(Checker("embedded", judge_params=params), recs)}
    base = lodo.read_rows(os.path.expanduser(a.base)) if a.base else []
    ids = {r["id"] for r in base}
    rows = [new.get(r["id"], r) for r in base] + [r for rid, r in new.items() if rid not in ids]
    lodo.write_rows(os.path.expanduser(a.out), rows)
    print(f"collected {len(new)} records, wrote {len(rows)} rows to {a.out}", file=sys.stderr)


def _best_bacc(scores: list[float], y: list[int]) -> float:
    """Balanced accuracy at the threshold best for these very labels: an oracle, not a result."""
    s, lab = np.asarray(scores), np.asarray(y)
    return max(balanced_accuracy((s >= t).astype(int), lab) or 0.0 for t in np.unique(s))


def ceiling(a: argparse.Namespace) -> None:
    """How much of the gap is the threshold: each set's LODO balanced accuracy beside the one its
    own best threshold would give the same scores (and the floor's, likewise)."""
    for path in a.rows:
        rows = usable(path)
        out, scored = lodo.evaluate(rows, "nli+novelty")
        floors = defaultdict(list)
        for r in rows:
            floors[r["dataset"]].append((r["floor"], r["label"]))
        cells, own, floor_own = [], [], []
        for o in out:
            ss = scored[o.dataset]
            own.append(100 * _best_bacc([w for _, w, _ in ss], [lab for _, _, lab in ss]))
            floor_own.append(100 * _best_bacc([f for f, _ in floors[o.dataset]], [lab for _, lab in floors[o.dataset]]))
            cells.append(f"{o.dataset[:10]} {100 * o.balanced_accuracy:.1f}/{own[-1]:.1f} (floor {100 * o.floor_balanced_accuracy:.1f}/{floor_own[-1]:.1f})")
        print(f"{os.path.basename(path)}: LODO {np.mean([100 * o.balanced_accuracy for o in out]):.1f}, each set's own best "
              f"threshold {np.mean(own):.1f} (floor {np.mean([100 * o.floor_balanced_accuracy for o in out]):.1f} / {np.mean(floor_own):.1f})")
        print("    " + " | ".join(cells))


def sides(a: argparse.Namespace) -> None:
    """In-domain thresholds, as the shipped combiner has them: each side of the project's document
    split scored by the combiner fitted on the other side's rows of every set (the ten sets'
    "train" documents fit, "val" documents scored, and the reverse); BAcc / AUC per set. Beside
    the leave-one-dataset-out table, which fits on the other sets only."""
    from verisum.evaluation import split_of

    docs = {k: split_of(d["doc"]) for k, d in records(a.data).items()}
    for path in a.rows:
        rows = usable(path)
        out: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
        for side in ("train", "val"):
            fit_on = [r for r in rows if docs[r["id"]] != side]
            cal = lodo.fit(fit_on, "nli+novelty")
            for r in rows:
                if docs[r["id"]] == side:
                    score, weak = lodo.summary_score(r, cal)
                    out[r["dataset"]][0].append((score, int(weak >= cal.threshold)))
                    out[r["dataset"]][1].append(int(r["label"]))
        cells, baccs, aucs = [], [], []
        for ds in sorted(out):
            (pairs, y) = out[ds]
            baccs.append(100 * (balanced_accuracy([p for _, p in pairs], y) or 0.0))
            aucs.append(roc_auc([s for s, _ in pairs], y) or 0.0)
            cells.append(f"{ds[:10]} {baccs[-1]:.1f}/{aucs[-1]:.3f}")
        print(f"{os.path.basename(os.path.dirname(path)) or path}/{os.path.basename(path)}: in-domain thresholds "
              f"{np.mean(baccs):.1f} / {np.mean(aucs):.3f}")
        print("    " + " | ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("sources")
    p.add_argument("rows", nargs="+")
    p.add_argument("--data", required=True)
    p.set_defaults(fn=sources)
    p = sub.add_parser("levers")
    p.add_argument("rows")
    p.add_argument("--other")
    p.add_argument("--data", required=True)
    p.set_defaults(fn=levers)
    p = sub.add_parser("caseless")
    p.add_argument("rows", nargs="+")
    p.add_argument("--data", required=True)
    p.set_defaults(fn=caseless)
    p = sub.add_parser("ceiling")
    p.add_argument("rows", nargs="+")
    p.set_defaults(fn=ceiling)
    p = sub.add_parser("sides")
    p.add_argument("rows", nargs="+")
    p.add_argument("--data", required=True)
    p.set_defaults(fn=sides)
    p = sub.add_parser("compare")
    p.add_argument("rows", nargs="+")
    p.set_defaults(fn=compare)
    p = sub.add_parser("faults")
    p.add_argument("rows", nargs="+")
    p.add_argument("--data", required=True)
    p.set_defaults(fn=faults)
    p = sub.add_parser("leads")
    p.add_argument("corpus")
    p.set_defaults(fn=leads)
    p = sub.add_parser("collect")
    p.add_argument("files", nargs="+")
    p.add_argument("--model", default="fast")
    p.add_argument("--out", required=True)
    p.add_argument("--budget", type=int, default=400)
    p.add_argument("--windows", action="store_true", help="transcripts only; the other rows from --base")
    p.add_argument("--base")
    p.set_defaults(fn=collect)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
