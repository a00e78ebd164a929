"""Premise/claim pairs from the bench-dev sets, and the project's train/validation split.

Split (by DOCUMENT, shared by all project code): a record belongs to the validation part when

    int(hashlib.sha1(doc.strip().encode("utf-8")).hexdigest(), 16) % 5 < 2

and to the training part otherwise (about 40% val / 60% train).  Use :func:`split_of`; never
train on records whose document falls in "val".

Pairs built here (label comes from the benchmark annotation, at sentence level only where the
annotation is sentence-level):

* cogensumm_sentpairs: doc sentence vs summary sentence; 1 -> supported, 0 -> unsupported.
* wice_oracle_claim: claim vs its evidence; 1 -> supported, 0 -> unsupported.
* records with ``sentence_labels``: per sentence (1 -> supported, 0 -> unsupported).
* records with ``spans`` (xsumfaith, cliff, goyal21, cao22_entfa): summary sentences without any
  span -> supported, sentences overlapping a span -> unsupported.
* other records: a one-sentence summary takes the record label (1 -> supported, 0 ->
  unsupported); multi-sentence summaries with label 1 give one supported pair per sentence;
  label-0 multi-sentence summaries without finer annotation are skipped.

The premise is the top-3 document sentences by lexical overlap with the claim, in document
order, joined by spaces (as at inference time).
"""
from __future__ import annotations

import json
import os
from typing import Iterator, Literal

from verisum.evaluation.labelled import split_of
from verisum.training.synth import content_set, overlap, split_sentences

#: bench-dev beside the checkout (the data stay outside the project); --bench overrides it.
DEFAULT_BENCH = os.path.join("..", "shared", "data", "bench-dev")


def _sent_spans(summary: str) -> list[tuple[int, int, str]]:
    out = []
    pos = 0
    for s in split_sentences(summary):
        i = summary.find(s[:20], pos)
        if i < 0:
            i = pos
        out.append((i, i + len(s), s))
        pos = i + len(s)
    return out


def top_premise(doc_sents: list[str], claim: str, k: int = 3) -> str:
    cs = content_set(claim)
    scored = sorted(range(len(doc_sents)), key=lambda i: -overlap(cs, content_set(doc_sents[i])))
    return " ".join(doc_sents[i] for i in sorted(scored[:k]))


def pairs_from_record(r: dict) -> list[dict]:
    ds = r.get("dataset", "")
    doc, summ, label = r["doc"], r["summary"], r.get("label")
    base = {"dataset": ds, "id": r.get("id")}
    if ds == "cogensumm_sentpairs":
        return [dict(base, premise=" ".join(doc.split()), claim=summ.strip(),
                     label="supported" if label == 1 else "unsupported", kind="bench")]
    doc_sents = split_sentences(doc)
    if not doc_sents:
        return []
    sents = _sent_spans(summ)
    out = []
    if ds == "wice_oracle_claim" or len(sents) <= 1:
        claim = " ".join(summ.split())
        out.append(dict(base, premise=top_premise(doc_sents, claim), claim=claim,
                        label="supported" if label == 1 else "unsupported", kind="bench"))
        return out
    sl = r.get("sentence_labels")
    if sl and len(sl) == len(sents):
        for (_, _, s), lab in zip(sents, sl):
            out.append(dict(base, premise=top_premise(doc_sents, s), claim=s,
                            label="supported" if lab in (1, True, "1") else "unsupported", kind="bench"))
        return out
    spans = r.get("spans")
    if spans is not None:
        for a, b, s in sents:
            bad = any(sp["start"] < b and sp["end"] > a for sp in spans)
            out.append(dict(base, premise=top_premise(doc_sents, s), claim=s,
                            label="unsupported" if bad else "supported", kind="bench"))
        return out
    if label == 1:
        for _, _, s in sents:
            out.append(dict(base, premise=top_premise(doc_sents, s), claim=s, label="supported", kind="bench"))
    return out


def iter_records(bench_dir: str = DEFAULT_BENCH) -> Iterator[dict]:
    for fn in sorted(os.listdir(bench_dir)):
        if fn.endswith(".jsonl"):
            with open(os.path.join(bench_dir, fn), encoding="utf-8") as f:
                for line in f:
                    yield json.loads(line)


def bench_pairs(part: Literal["train", "val"], bench_dir: str = DEFAULT_BENCH) -> list[dict]:
    out = []
    for r in iter_records(bench_dir):
        if split_of(r["doc"]) != part:
            continue
        out.extend(pairs_from_record(r))
    return out


def main(argv=None):
    import argparse
    from collections import Counter

    ap = argparse.ArgumentParser(description="Write bench-dev pairs of one split part.")
    ap.add_argument("--bench", default=DEFAULT_BENCH)
    ap.add_argument("--part", choices=["train", "val"], default="train")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    ps = bench_pairs(a.part, a.bench)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        for p in ps:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    print(len(ps), Counter((p["dataset"], p["label"]) for p in ps))


if __name__ == "__main__":
    main()
