"""Does a judge accept a first-person sentence retold in the third person? The faithful rewrite
every summary of a forum post, a chat or a consultation makes ("I burnt my hand" -> "The author
burnt their hand"; "Sam: I will check" -> "Sam will check"), measured before any training on it.

Not part of verisum: a probe behind the MPNet card's "Stage 2r measured", runnable again here.

    python scripts/probe_perspective.py --data ../shared/data/bench-dev fast ~/.cache/verisum/export/nli-mpnet-s2r

Premises: 150 first-person sentences (40-200 characters) drawn (seed 0) from the source posts of
``llm_severity.jsonl``'s Reddit records (a diagnosis of why its faithful summaries are rejected;
nothing here trains on them). Each is judged against itself, and against its third-person
retelling: "I"/"my"/"me" replaced by a referent ("the author", "the poster", "the speaker"), or
the premise given a speaker's label ("Sam: ...") and the claim retold with the name.

Its own rewrite (``retell`` below), not ``verisum.training.perspective.retell``, on purpose: the
probe retells every first-person sentence, a verb left unagreed ("the author go") included, so that
what it measures is not only the sentences the training rule can agree; the training rule is
stricter and skips those. The card's figures were made with this one.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics

from verisum.document import Document
from verisum.judges.base import Pair
from verisum.judges.embedded import EmbeddedJudge


def retell(sentence: str, who: str, their: str = "their") -> str:
    """``sentence`` with its first person made ``who`` (a crude rewrite: enough for a probe)."""
    subs = [(r"\b[Ii]'m\b", f"{who} is"), (r"\b[Ii]'ve\b", f"{who} has"), (r"\b[Ii]'d\b", f"{who} would"),
            (r"\b[Ii]'ll\b", f"{who} will"), (r"\b[Ii] am\b", f"{who} is"), (r"\b[Ii]\b", who),
            (r"\b[Mm]y\b", their), (r"\bme\b", "them"), (r"\bmyself\b", "themselves")]
    for a, b in subs:
        sentence = re.sub(a, b, sentence)
    return sentence[0].upper() + sentence[1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="judges: fast, accurate, or an exported model folder")
    ap.add_argument("--data", default="../shared/data/bench-dev")
    ap.add_argument("--n", type=int, default=150)
    a = ap.parse_args()
    sentences = []
    with open(os.path.join(a.data, "llm_severity.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            if d.get("origin") == "reddit_tifu":
                sentences += [s.text for s in Document(d["doc"]).sentences
                              if 40 <= len(s.text) <= 200 and re.search(r"\b(I|my|me)\b", s.text)]
    sentences = random.Random(0).sample(sentences, min(a.n, len(sentences)))
    cases = {"the same sentence": [Pair(s, s) for s in sentences]}
    for who in ("the author", "the poster", "the speaker"):
        cases[f'"I" -> "{who}"'] = [Pair(s, retell(s, who)) for s in sentences]
    cases['"Sam: ..." -> "Sam ..."'] = [Pair("Sam: " + s, retell(s, "Sam")) for s in sentences]
    print(f"{len(sentences)} first-person sentences; median P(supported), share below 0.5, share contradicted > 0.5")
    for model in a.models:
        judge = EmbeddedJudge(model)
        for case, pairs in cases.items():
            out = judge.judge(pairs)
            sup = [j.supported for j in out]
            print(f"{os.path.basename(model.rstrip('/')):16s} {case:28s} {statistics.median(sup):.3f}  "
                  f"{sum(p < 0.5 for p in sup) / len(sup):.2f}  {sum(j.contradicted > 0.5 for j in out) / len(out):.2f}")


if __name__ == "__main__":
    main()
