"""Training pairs whose claim retells a first-person premise in the third person.

A summary of a forum post, a chat or a consultation never says "I": it says "the author burnt
their hand", "the patient reports pain in the right knee", "Sam will check the fridge". The
accurate judge (MPNet, stage 2r) reads such a retelling of its own premise as *not* supported:
on 150 first-person sentences of Reddit posts, "I" made "the author" is judged below 0.5 for 69%
of them and *contradicted* for 20%, where the fast judge accepts 94%
(``scripts/probe_perspective.py``; the MPNet card, "Stage 2r measured"). Its training data never
showed the two as one person: the dialogue rows of ``verisum train dialogue`` leave first-person
claims as they are.

This module makes those pairs from the NLI data: a pair whose premise and hypothesis both speak
in the first person singular (MNLI's telephone and fiction genres, mostly) keeps its premise and
label, and its hypothesis is retold in the third person:

* **a referent**: "I" becomes "the author", "the writer", "the poster", "the speaker", "the
  narrator" or "the user" ("my" their, "me" them), the verb after it made to agree ("I have" ->
  "the author has"); a hypothesis whose verb cannot be made to agree safely is skipped;
* **a speaker**: the premise is given a speaker's label ("Sam: ...") and the hypothesis is retold
  with the name ("Sam has ...");
* **the wrong speaker**: a supported pair in the second form, a second speaker who only says
  "Ok." added, the hypothesis retold with *that* speaker's name: *not_supported*, the name at
  fault (the error a summary of a dialogue makes most).

Rows carry the schema of ``verisum train spans`` (``premise``, ``claim``, ``label``, ``faults``,
``kind``, ``dataset``); ``faults`` is ``null`` where an NLI label says a claim is wrong but not
where (the trainer masks those tokens), ``[]`` for a supported claim. The trainer's 1,000
held-out NLI rows are left out.

    verisum train perspective --nli ../shared/data/nli --out ~/.cache/verisum/train/perspective.jsonl
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from typing import Any, Iterator, Sequence

from .dialogue import FILLERS, NAMES

__all__ = ["REFERENTS", "SPEAKING", "retell", "perspective_pairs", "main"]

#: How summaries of posts, talks and stories name the one who says "I".
REFERENTS = ("the author", "the writer", "the poster", "the speaker", "the narrator", "the user")
_FIRST = re.compile(r"\b(?:I|i)\b(?:'(?:m|ve|d|ll))?|\b(?:[Mm]y|[Mm]e|[Mm]ine|[Mm]yself)\b")
#: "My" or "Me" inside a sentence, capitalised: a title ("In My Lifetime", "Forgive Me"), not a speaker.
_TITLE = re.compile(r"(?<![.!?:\"]\s)(?<!^)\b(?:My|Me|Mine)\b")
#: First person plural or second person: another "we" or "you" than the one retold; skipped.
_OTHERS = re.compile(r"\b(?:we|us|our|ours|ourselves|you|your|yours|yourself)\b", re.I)
#: The listener's turns in a wrong-speaker premise: dialogue's fillers that say "I" or "you" left
#: out, so the premise has one first person, the speaker's.
_LISTENER_TURNS = tuple(f for f in FILLERS if not _FIRST.search(f) and not _OTHERS.search(f))
#: Verbs after "I" that read the same after "the author" (modals, past tenses).
_SAME = frozenset("""was wasn't had hadn't did didn't will won't would wouldn't could couldn't should shouldn't can
can't cannot might must may shall went got saw said made came took knew thought told found gave felt left kept
began heard ran bought brought sent spent lost met paid sat stood wrote became fell forgot wore ate drove chose
broke spoke woke won""".split())
_AGREE = {"am": "is", "have": "has", "haven't": "hasn't", "do": "does", "don't": "doesn't", "'m": " is",
          "'ve": " has", "'d": " would", "'ll": " will"}
#: Adverbs that may stand between "I" and its verb ("I never did").
_ADVERBS = frozenset("never also just then still really always only already even actually once".split())
#: The object and possessive forms once the one retold is named; before that, the name itself.
_LATER = {"me": "them", "my": "their", "mine": "theirs", "myself": "themselves"}


def _verb(words: Sequence[str]) -> list[str] | None:
    """The words after a retold "I" up to its verb, the verb agreed for the third person; None
    when it cannot be agreed safely (a present tense the rules do not know)."""
    if not words or words[0][:1].isupper():
        return None  # "I Kissed a Girl": a title, not someone speaking
    w = words[0].rstrip(".,;:!?")
    low = w.lower()
    if low in _AGREE:
        return [_AGREE[low]]
    if low in _SAME or (low.endswith("ed") and len(low) > 3):
        return [w]
    if low in _ADVERBS:
        rest = _verb(words[1:])
        return None if rest is None else [w, *rest]
    return None


def retell(text: str, who: str) -> str | None:
    """``text`` with its first person singular made ``who`` ("the author", "Sam"): "I" the name
    (the verb after it agreed), "me"/"my"/"mine" the name (or "who's") until it has been named,
    then "them"/"their"/"theirs"; None when ``text`` has no first person, speaks of another "we"
    or "you", or has a verb after "I" the rules cannot agree."""
    if not _FIRST.search(text) or _OTHERS.search(text) or _TITLE.search(text):
        return None
    out: list[str] = []
    pos = 0
    named = False
    for m in _FIRST.finditer(text):
        if m.start() < pos:
            continue  # inside words already rewritten
        out.append(text[pos:m.start()])
        word = m.group()
        low = word.lower()
        if low in _LATER:
            if named:
                out.append(_LATER[low])
            else:
                out.append(who if low in ("me", "myself") else f"{who}'s")
            named = True
            pos = m.end()
            continue
        if "'" in word:  # I'm, I've, I'd, I'll
            out.append(who + _AGREE["'" + low.split("'")[1]])
            named, pos = True, m.end()
            continue
        tokens = list(re.finditer(r"\S+", text[m.end():]))[:3]
        verb = _verb([t.group() for t in tokens])
        if verb is None:
            return None
        last = tokens[len(verb) - 1]  # the verb's own word; its punctuation stays
        pos = m.end() + last.start() + len(last.group().rstrip(".,;:!?"))
        out.append(who + " " + " ".join(verb))
        named = True
    out.append(text[pos:])
    told = "".join(out)
    return told[0].upper() + told[1:]


#: The NLI sets whose "I" is someone speaking (MNLI's telephone talk, letters and fiction; SNLI's
#: captions): FEVER's, VitaminC's and Climate-FEVER's are mostly in titles ("I Kissed a Girl").
SPEAKING = ("mnli_dev", "snli")


def perspective_pairs(rows: Sequence[dict[str, Any]], *, n: int, seed: int = 0,
                      datasets: Sequence[str] | None = SPEAKING) -> Iterator[dict[str, Any]]:
    """Up to ``n`` rows from NLI ``rows`` ({"premise", "hypothesis", "label", "dataset"}; of
    ``datasets`` only, None for all) whose premise and hypothesis both speak in the first person
    singular: the hypothesis retold with a referent or a speaker's name (the label kept), and for
    supported pairs the wrong speaker."""
    rng = random.Random(seed)
    order = list(range(len(rows)))
    rng.shuffle(order)
    made = 0
    for i in order:
        if made >= n:
            return
        r = rows[i]
        premise, hyp, label = r["premise"], r["hypothesis"], r["label"]
        if datasets is not None and r.get("dataset") not in datasets:
            continue
        if not _FIRST.search(premise) or _OTHERS.search(premise) or _TITLE.search(premise):
            continue
        faults: list[list[int]] | None = [] if label == "supported" else None
        who = rng.choice(REFERENTS)
        told = retell(hyp, who)
        if told is None:
            continue
        yield {"premise": premise, "claim": told, "label": label, "faults": faults, "kind": "perspective:referent",
               "dataset": r.get("dataset", "")}
        made += 1
        speaker, other = rng.sample(NAMES, 2)
        told = retell(hyp, speaker)
        if told is None or made >= n:
            continue
        yield {"premise": f"{speaker}: {premise}", "claim": told, "label": label, "faults": faults,
               "kind": "perspective:speaker", "dataset": r.get("dataset", "")}
        made += 1
        if label == "supported" and made < n:
            wrong = retell(hyp, other)
            if wrong is not None:
                spans = [[m.start(), m.end()] for m in re.finditer(rf"\b{other}\b", wrong)]
                yield {"premise": f"{speaker}: {premise}\n{other}: {rng.choice(_LISTENER_TURNS)}", "claim": wrong,
                       "label": "not_supported", "faults": spans, "kind": "perspective:wrong-speaker",
                       "dataset": r.get("dataset", "")}
                made += 1


def main(argv: list[str] | None = None) -> int:
    from .nli import pairs_outside_held_out

    ap = argparse.ArgumentParser(prog="verisum train perspective", description=__doc__.split("\n")[0])
    ap.add_argument("--nli", action="append", required=True, help="NLI JSONL file or folder (repeatable)")
    ap.add_argument("--n", type=int, default=20000, help="rows to write at most")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--held-out-seed", type=int, default=13,
                    help="the judge trainer's --seed: its 1,000 held-out NLI rows are left out here too")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    counts: Counter[str] = Counter()
    with open(a.out, "w", encoding="utf-8") as out:
        for r in perspective_pairs(pairs_outside_held_out(a.nli, a.held_out_seed), n=a.n, seed=a.seed):
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
            counts[f"{r['kind'].split(':')[1]} {r['label']}"] += 1
    print(json.dumps(dict(counts)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
