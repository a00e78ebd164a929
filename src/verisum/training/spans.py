"""Training pairs with the words at fault marked, for the judge's token-level fault head.

Every row is an NLI pair plus the character spans of the claim that are at fault
(``faults``; empty for a supported claim)::

    {"premise", "claim", "label", "faults": [[start, end], ...], "kind", "dataset"}

Three sources, none of them a benchmark the fault head is measured on (the span-annotated
bench-dev sets stay out, so their leave-one-dataset-out span F1 is a fair test):

* **minimal pairs** of the NLI data (``../shared/data/nli``): a premise with a supported claim
  and an unsupported or contradicted one that differs from it in at most ``max_changed``
  words (VitaminC's contrastive claims, counterfactually edited NLI, SNLI and MNLI hypotheses
  written for the same premise): the words the unfaithful claim has in place of the faithful
  one's are at fault;
* **perturbed copies** of news sentences (``../shared/data/news/corpus.jsonl``): a sentence of
  an article is a faithful claim of its own paragraph (``--premise retrieved``: of the article's
  sentences the Checker retrieves for it); :func:`verisum.perturb.perturb` changes
  it by one of its error types and says which characters it changed. These rows carry the
  2-way label ``not_supported``: a perturbation says where the claim goes wrong, not always
  whether the source contradicts it or is silent;
* **fusions** of news sentences: two adjacent sentences of an article joined into one claim
  (", and ..."), or one with its attribution dropped ("..., the council said"), read against
  their paragraph (a premise of several sentences): faithful abstraction, supported, with no
  word at fault; and the same fusion perturbed, the changed words at fault. LLM summaries fuse
  and compress, and a judge trained on one-sentence pairs calls much of that unsupported.

A fourth source is opt-in, because it *is* what the judge is measured on: **labelled summaries**
(``--bench FILE``, the bench-dev format), each claim as the Checker splits it against the
premise the Checker first reads for it (its retrieved sentences joined). A faithful summary's
claims are supported; a claim of an unfaithful one that overlaps a marked span is
``not_supported`` with the marked characters at fault, and one that overlaps none is supported;
an unfaithful summary without marks gives a row only when it is a single claim (``faults``
unknown). ``--leave-out DATASET`` keeps sets out, so a model trained on the others can be
measured on them (cross-fitting by dataset: ``scripts/crossfit.sh``; the fast model's card, run 6);
``--split train|val`` keeps one side of the project's document split of every set
(:func:`verisum.evaluation.split_of`), so a model trained on one side can be measured on the
other side's documents of the same sets (cross-fitting by document: ``BY=document
scripts/crossfit.sh``), as the benchmarks' held-back test parts measure it.

    verisum train spans --nli ../shared/data/nli --corpus ../shared/data/news/corpus.jsonl \\
        --out ~/.cache/verisum/train/spans.jsonl
"""
from __future__ import annotations

import argparse
import difflib
import functools
import json
import random
import re
import sys
from collections import defaultdict
from typing import Any, Iterable, Iterator, Sequence

__all__ = ["word_spans", "minimal_pairs", "perturbed_pairs", "fuse", "lower_head", "fused_pairs", "bench_pairs",
           "main"]

_WORD = re.compile(r"\S+")
_LEAD = "\"'“‘(["
_TRAIL = "\"'”’)].,;:!?"


def word_spans(text: str) -> list[tuple[int, int]]:
    """Whitespace-separated words of ``text`` as character spans, edge punctuation left out."""
    out = []
    for m in _WORD.finditer(text):
        a, b = m.span()
        while a < b - 1 and text[a] in _LEAD:
            a += 1
        while b > a + 1 and text[b - 1] in _TRAIL:
            b -= 1
        out.append((a, b))
    return out


def _changed(faithful: str, unfaithful: str, max_changed: int, max_ops: int) -> list[tuple[int, int]] | None:
    """Character spans of ``unfaithful``'s words that replace or add to ``faithful``'s, or None
    when the two differ by more than ``max_changed`` words in ``max_ops`` places, or only by
    words taken away (then no word of the unfaithful claim is at fault)."""
    sa, sb = word_spans(faithful), word_spans(unfaithful)
    wa = [faithful[a:b].lower() for a, b in sa]
    wb = [unfaithful[a:b].lower() for a, b in sb]
    ops = [o for o in difflib.SequenceMatcher(a=wa, b=wb, autojunk=False).get_opcodes() if o[0] != "equal"]
    if not ops or len(ops) > max_ops:
        return None
    changed = sum(max(i2 - i1, j2 - j1) for _, i1, i2, j1, j2 in ops)
    if changed > max_changed or any(tag == "delete" for tag, *_ in ops):
        return None
    return [(sb[j1][0], sb[j2 - 1][1]) for _, _, _, j1, j2 in ops]


def minimal_pairs(rows: Iterable[dict[str, Any]], *, max_changed: int = 3, max_ops: int = 2) -> Iterator[dict[str, Any]]:
    """Fault-marked rows from NLI rows (``premise``, ``hypothesis`` or ``claim``, ``label``):
    for each premise, every unfaithful claim that is a minimal edit of one of its supported
    claims, with that supported claim once (no faults)."""
    by_premise: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        claim = r.get("hypothesis", r.get("claim"))
        if claim and r.get("premise"):
            by_premise[r["premise"]].append({**r, "claim": claim})
    for premise, rs in by_premise.items():
        good = [r for r in rs if r["label"] == "supported"]
        bad = [r for r in rs if r["label"] in ("contradicted", "unsupported", "not_supported")]
        used: set[str] = set()
        for b in bad:
            for g in good:
                spans = _changed(g["claim"], b["claim"], max_changed, max_ops)
                if spans is None:
                    continue
                yield {"premise": premise, "claim": b["claim"], "label": b["label"], "faults": [list(s) for s in spans],
                       "kind": "minimal-pair", "dataset": b.get("dataset", "")}
                if g["claim"] not in used:
                    used.add(g["claim"])
                    yield {"premise": premise, "claim": g["claim"], "label": "supported", "faults": [],
                           "kind": "minimal-pair", "dataset": g.get("dataset", "")}
                break


def perturbed_pairs(articles: Sequence[str], *, n: int, seed: int = 0, context: int = 1,
                    types: Sequence[str] | None = None, retriever: Any = None,
                    top_k: int = 3) -> Iterator[dict[str, Any]]:
    """Up to ``n`` fault-marked rows from news articles: a sentence of an article (supported, no
    faults) and one perturbed variant of it (``not_supported``, the changed characters at fault),
    its error type drawn from ``types`` (default: every type of
    :data:`verisum.perturb.ERROR_TYPES`).

    The premise is the sentence with ``context`` sentences either side, and the variant is made
    against that window; with a ``retriever`` (anything with the Checker's ``search(document,
    queries, k)``) the variant is made against the whole article and each claim's premise is what
    the Checker would read: its ``top_k`` retrieved sentences joined in source order. A sentence
    recombined from two distant ones then meets both, as it does in a check."""
    from ..document import Document
    from ..errors import VerisumError
    from ..perturb import ERROR_TYPES, perturb

    rng = random.Random(seed)
    order = list(range(len(articles)))
    rng.shuffle(order)
    types = list(types or ERROR_TYPES)
    made = 0
    for i in order:
        if made >= n:
            return
        doc = Document(articles[i])
        sentences = [s.text for s in doc.sentences if 40 <= len(s.text) <= 300]
        if len(sentences) < 3:
            continue
        k = rng.randrange(1, len(sentences) - 1)
        window = " ".join(sentences[max(0, k - context):k + context + 1])
        claim = sentences[k]
        kind = rng.choice(types)
        try:
            variants = perturb(doc.text if retriever is not None else window, claim, types=[kind], seed=seed, id=str(i))
        except VerisumError:
            continue
        if not variants:
            continue
        v = variants[0]  # v.summary is the claim with one change; v.start/v.end index it
        if retriever is None:
            premises = [window, window]
        else:
            from ..checker import premise_text

            premises = [premise_text(r.evidence) for r in retriever.search(doc, [claim, v.summary], top_k)]
        yield {"premise": premises[0], "claim": claim, "label": "supported", "faults": [], "kind": "perturbed",
               "dataset": "news"}
        yield {"premise": premises[1], "claim": v.summary, "label": "not_supported",
               "faults": [[v.start, v.end]], "kind": f"perturbed:{v.error_type}", "dataset": "news"}
        made += 2


#: Sentence openers that are not names: lower-cased when the sentence becomes a second clause.
_OPENERS = frozenset("""the a an it he she they this that these those there his her their its we i in on at
for but as after before when while since if some many most all one two three""".split())
_ATTRIBUTION = re.compile(r",\s+(?:(?:the|a|an)\s+)?[\w' -]{2,40}?\s+(?:said|says|told \w+|reported|added|announced)\.$")


_LINKS = frozenset("and but or so yet however meanwhile also still instead then thus therefore".split())


def fuse(first: str, second: str, context: str = "") -> str | None:
    """Two sentences as one claim: ``first`` without its stop, ", and ", ``second`` (its first
    word lower-cased unless it is a name: a word ``context`` never writes in lower case); None
    when either is a question, a quotation or too short to be a whole sentence, or the second
    opens with a link of its own ("But ...")."""
    a, b = first.strip(), second.strip()
    if not a.endswith(".") or not b.endswith(".") or any(q in a + b for q in '"“”?'):
        return None
    if min(len(a.split()), len(b.split())) < 6 or len(a.split()[-1]) <= 4:
        return None  # a fragment, or a sentence cut at an initial ("R.J.")
    if b.partition(" ")[0].lower().strip(",") in _LINKS:
        return None
    return f"{a[:-1]}, and {lower_head(b, context)}"


def lower_head(sentence: str, context: str = "") -> str:
    """``sentence`` as the second half of a longer one: its first word lower-cased unless it is a
    name (a word ``context`` never writes in lower case; "The" and "It" always lower)."""
    head, _, rest = sentence.partition(" ")  # not stripped: offsets into the sentence stay valid
    if head.lower() in _OPENERS or re.search(rf"\b{re.escape(head.lower())}\b", context):
        head = head.lower()
    return f"{head} {rest}" if rest else head


def fused_pairs(articles: Sequence[str], *, n: int, seed: int = 0,
                types: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
    """Up to ``n`` rows of faithful abstraction from news articles (see the module docstring):
    a fusion of two adjacent sentences or a sentence without its attribution, supported by its
    paragraph, and the same claim perturbed by one error type drawn from ``types`` (default:
    every type), the changed words at fault."""
    from ..document import Document
    from ..errors import VerisumError
    from ..perturb import ERROR_TYPES, perturb

    rng = random.Random(seed + 1)
    order = list(range(len(articles)))
    rng.shuffle(order)
    types = list(types or ERROR_TYPES)
    made = 0
    for i in order:
        if made >= n:
            return
        sentences = [s.text for s in Document(articles[i]).sentences]
        if len(sentences) < 4:
            continue
        k = rng.randrange(0, len(sentences) - 2)
        premise = " ".join(sentences[max(0, k - 1):k + 3])
        if len(premise) > 900:
            continue
        dropped = _ATTRIBUTION.sub(".", sentences[k])
        claim = dropped if dropped != sentences[k] and rng.random() < 0.3 else fuse(sentences[k], sentences[k + 1], articles[i])
        if not claim or not 40 <= len(claim) <= 400:
            continue
        try:
            variants = perturb(premise, claim, types=[rng.choice(types)], seed=seed, id=f"fused-{i}")
        except VerisumError:
            variants = []
        yield {"premise": premise, "claim": claim, "label": "supported", "faults": [], "kind": "fused",
               "dataset": "news"}
        made += 1
        if variants and len(Document(variants[0].summary).sentences) == 1:
            v = variants[0]
            yield {"premise": premise, "claim": v.summary, "label": "not_supported", "faults": [[v.start, v.end]],
                   "kind": f"fused:{v.error_type}", "dataset": "news"}
            made += 1


def bench_pairs(records: Iterable[Any], checker: Any) -> Iterator[dict[str, Any]]:
    """Fault-marked rows from labelled summaries (:class:`verisum.evaluation.labelled.LabelledRecord`:
    ``doc``, ``summary``, ``label``, ``spans`` as offsets into the summary), read as ``checker``
    reads them: its claims, each against its retrieved sentences joined (see the module
    docstring for the labels). A record the Checker refuses (empty, too large) gives no row."""
    from ..checker import premise_text
    from ..errors import VerisumError

    checker.load()
    for rec in records:
        try:  # the Checker's split and retrieval, without judging: the rows are what it would judge
            analysis = checker._prepare(rec.id, rec.doc, rec.summary)
        except VerisumError:
            continue
        marks = list(rec.spans or ())
        faithful = rec.label == 1
        if not faithful and not marks and len(analysis.claims) != 1:
            continue  # which of its claims is wrong is not known
        for c in analysis.claims:
            claim = c.claim.hypothesis
            s, e = c.claim.span.start, c.claim.span.end
            at = claim.find(c.claim.span.text)
            hit = [(max(s, a), min(e, b)) for a, b in marks if a < e and s < b]
            if faithful or (marks and not hit):
                label, faults = "supported", []
            elif hit and at >= 0:
                label, faults = "not_supported", [[a - s + at, b - s + at] for a, b in hit]
            else:
                label, faults = "not_supported", None
            yield {"premise": premise_text(c.evidence), "claim": claim, "label": label, "faults": faults,
                   "kind": "bench", "dataset": rec.dataset}


def main(argv: list[str] | None = None) -> int:
    from .nli import pairs_outside_held_out

    ap = argparse.ArgumentParser(prog="verisum train spans", description=__doc__.split("\n")[0])
    ap.add_argument("--nli", action="append", default=[], help="NLI JSONL file or folder (repeatable)")
    ap.add_argument("--corpus", default=None, help="news corpus JSONL ({\"text\"} or {\"article\"} per line)")
    ap.add_argument("--perturbed", type=int, default=20000, help="rows from perturbed news sentences")
    ap.add_argument("--perturb-types", default=None, metavar="T1,T2",
                    help="error types of the perturbed and fused rows (verisum perturb's; default all)")
    ap.add_argument("--context", type=int, default=1, help="sentences either side of a perturbed one in its premise")
    ap.add_argument("--premise", choices=["window", "retrieved"], default="window",
                    help="a perturbed row's premise: its --context window, or the sentences of the whole "
                         "article the Checker retrieves for the claim (--top-k, joined in source order)")
    ap.add_argument("--top-k", type=int, default=3, help="sentences retrieved for a claim (--premise retrieved)")
    ap.add_argument("--fused", type=int, default=20000, help="rows of fused / compressed news sentences")
    ap.add_argument("--bench", action="append", default=[], metavar="FILE",
                    help="labelled summaries (bench-dev JSONL) as rows, read as the Checker reads them (repeatable)")
    ap.add_argument("--leave-out", action="append", default=[], metavar="DATASET",
                    help="a --bench dataset (its file's stem or its records' 'dataset') to leave out (repeatable)")
    ap.add_argument("--split", choices=["train", "val", "all"], default="all",
                    help="--bench: the records of one side of the project's document split only")
    ap.add_argument("--max-changed", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--held-out-seed", type=int, default=13,
                    help="the judge trainer's --seed: its 1,000 held-out NLI rows are left out here too")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    from ..errors import InputError
    from ..perturb import parse_types
    try:
        types = parse_types(a.perturb_types) if a.perturb_types is not None else None
    except InputError as exc:
        ap.error(f"--perturb-types: {exc}")
    counts: dict[str, int] = defaultdict(int)

    @functools.cache
    def checker() -> Any:
        """The shipped Checker, loaded once for every source that reads as a check reads."""
        from ..checker import Checker

        return Checker().load()

    with open(a.out, "w", encoding="utf-8") as out:
        def write(rows: Iterable[dict[str, Any]]) -> None:
            for r in rows:
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
                counts[r["kind"].split(":")[0] + ("+" if r["faults"] else "?" if r["faults"] is None else "-")] += 1

        if a.nli:
            write(minimal_pairs(pairs_outside_held_out(a.nli, a.held_out_seed), max_changed=a.max_changed))
        if a.corpus:
            articles = []
            with open(a.corpus, encoding="utf-8") as fh:
                for line in fh:
                    obj = json.loads(line)
                    text = obj.get("text") or obj.get("article") or ""
                    if len(text) > 400:
                        articles.append(text)
            # the shipped Checker's retriever, so premises read as a check reads them
            retriever = checker().retriever_ if a.premise == "retrieved" else None
            write(perturbed_pairs(articles, n=a.perturbed, seed=a.seed, context=a.context, types=types,
                                  retriever=retriever, top_k=a.top_k))
            write(fused_pairs(articles, n=a.fused, seed=a.seed, types=types))
        if a.bench:
            from pathlib import Path

            from ..evaluation.labelled import LabelledRecord, read_labelled

            left_out = set(a.leave_out)
            files = [f for f in a.bench if Path(f).stem not in left_out]
            records = [r for r in read_labelled(files)
                       if isinstance(r, LabelledRecord) and r.label is not None and r.dataset not in left_out
                       and a.split in ("all", r.split)]
            write(bench_pairs(records, checker()))
    print(json.dumps(dict(counts)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
