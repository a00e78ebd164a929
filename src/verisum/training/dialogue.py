"""Training pairs in dialogue form: fault-marked rows with their premise spoken as turns of a chat,
a call or a meeting, and their claim reported the way a summary of such a source writes it.

The judge reads chats, call transcripts and meeting notes as badly as it reads news well: it was
trained on sentence pairs whose premises are prose, and it calls most *faithful* summaries of a
transcript unsupported (the MPNet card's "After stage 2": 85% of SAMSum's faithful summaries,
all of QMSum's). No dialogue summaries are in this project's training data (the ones in the
benchmarks are what it is measured on), so this module makes the form, not the content: each
row of ``verisum train spans`` (a premise, a claim, its label, the words at fault) is rewritten

* **premise as turns**: the premise's sentences spoken by one speaker (a name, or a role such as
  "Sales Agent"), with turns of a second speaker that carry no content ("Ok.", "Really?") before,
  between and after them, written ``Name: text`` one turn a line or run together, as transcripts
  are; a turn of two sentences keeps one label, so a retrieved second sentence has none;
* **claim as a summary writes it**: unchanged; or reported ("Ann says that ...", "According to
  Ann, ...", "In the conversation, ..."), the words at fault moved with it. A reported claim
  keeps its label: what the speaker said supports, contradicts or leaves open the claim as the
  premise did;
* **the wrong speaker**: a supported claim reported as said by the speaker who only said "Ok."
  is *unsupported*, that speaker's name at fault: who said what is the error summaries of
  dialogue make most.

Claims written in the first or second person ("I", "we", "you") are never reported (the
speaker's "I" would become someone else), only the premise is turned into a dialogue.

    verisum train dialogue --spans ~/.cache/verisum/train/spans.jsonl --n 15000 \\
        --out ~/.cache/verisum/train/dialogue.jsonl
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from typing import Any, Iterable, Iterator, Sequence

from .spans import lower_head

__all__ = ["NAMES", "ROLES", "FILLERS", "as_dialogue", "dialogue_pairs", "main"]

NAMES = ("Ann", "Mike", "Lola", "Tom", "Sara", "David", "Priya", "Omar", "Julia", "Ken", "Maria", "Jack",
         "Emma", "Leo", "Nina", "Sam", "Grace", "Ben", "Chloe", "Raj", "Hannah", "Luis", "Mei", "Tariq")
#: (informant, listener) roles of calls, meetings, interviews and consultations
ROLES = (("Sales Agent", "Client"), ("Client", "Sales Agent"), ("Project Manager", "Marketing"),
         ("Industrial Designer", "User Interface"), ("Doctor", "Patient"), ("Patient", "Doctor"),
         ("Guest", "Host"), ("Speaker", "Interviewer"), ("Caller", "Operator"), ("Analyst", "Moderator"))
#: turns that say nothing a claim could rest on
FILLERS = ("Hi!", "Hey, what's up?", "Ok.", "Yeah.", "Really?", "Oh, I see.", "Sounds good.", "Go on.",
           "Right.", "And then?", "Thanks!", "Hmm.", "I didn't know that.", "What do you mean?", "Sure.",
           "Cool.", "Mm-hmm.", "Wait, really?", "That's interesting.", "Okay, thanks.", "Tell me more.",
           "Uh-huh.", "Good to know.", "Any news?")
_REPORTS = ("{s} says that ", "{s} tells {l} that ", "{s} explains that ", "{s} mentions that ",
            "According to {s}, ", "{s} informs {l} that ", "In the conversation, ", "{s} points out that ")
_PERSONAL = re.compile(r"\b(?:I|I'm|I've|I'd|I'll|me|my|mine|we|we're|us|our|ours|you|you're|your|yours)\b", re.I)


def _turns(sentences: Sequence[str], informant: str, listener: str, rng: random.Random) -> list[tuple[str, str]]:
    """The premise's sentences as the informant's turns (one or two sentences each), with the
    listener's content-free turns before, between and after them (at least one)."""
    turns: list[tuple[str, str]] = []
    if rng.random() < 0.6:
        turns.append((listener, rng.choice(FILLERS)))
    k = 0
    while k < len(sentences):
        take = 2 if k + 1 < len(sentences) and rng.random() < 0.3 else 1
        turns.append((informant, " ".join(sentences[k:k + take])))
        k += take
        if k < len(sentences) and rng.random() < 0.5:
            turns.append((listener, rng.choice(FILLERS)))
    if rng.random() < 0.5 or all(who == informant for who, _ in turns):  # the listener speaks at least once
        turns.append((listener, rng.choice(FILLERS)))
    return turns


def _as_named(role: str) -> str:
    """A role as a summary names it: "Sales Agent" -> "the sales agent"."""
    return "the " + role.lower()


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def as_dialogue(row: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """``row`` (a ``verisum train spans`` row) in dialogue form: one row, plus a wrong-speaker
    row when the claim is supported and reported; ``[]`` when the premise has no sentence."""
    from ..document import Document

    sentences = [s.text for s in Document(row["premise"]).sentences]
    if not sentences:
        return []
    roles = rng.random() >= 0.7
    informant, listener = rng.choice(ROLES) if roles else rng.sample(NAMES, 2)
    sep = "\n" if rng.random() < 0.4 else " "
    premise = sep.join(f"{who}: {text}" for who, text in _turns(sentences, informant, listener, rng))
    claim = row["claim"]
    kind = "dialogue:" + row["kind"]
    out = []
    reported = not _PERSONAL.search(claim) and rng.random() < 0.6
    if reported:
        frame = rng.choice(_REPORTS)
        said, heard = (_as_named(informant), _as_named(listener)) if roles else (informant, listener)
        prefix = _capital(frame.format(s=said, l=heard))
        body = lower_head(claim, row["premise"])
        out.append({**row, "premise": premise, "claim": prefix + body, "kind": kind + ":reported",
                    "faults": [[a + len(prefix), b + len(prefix)] for a, b in row["faults"]]})
        if row["label"] == "supported" and "{s}" in frame and rng.random() < 0.4:
            wrong = _capital(frame.format(s=heard, l=said))
            name = listener.lower() if roles else listener
            at = wrong.lower().index(name.lower())
            out.append({**row, "premise": premise, "claim": wrong + body, "label": "unsupported",
                        "faults": [[at, at + len(name)]], "kind": kind + ":wrong-speaker"})
    else:
        out.append({**row, "premise": premise, "kind": kind})
    return out


def dialogue_pairs(rows: Iterable[dict[str, Any]], *, n: int, seed: int = 0,
                   max_premise: int = 900) -> Iterator[dict[str, Any]]:
    """Up to ``n`` dialogue rows made from ``rows`` taken in a shuffled order (premises longer
    than ``max_premise`` characters left out: as turns they would outgrow the judge's length)."""
    rng = random.Random(seed)
    pool = [r for r in rows if r.get("premise") and r.get("claim") and len(r["premise"]) <= max_premise]
    rng.shuffle(pool)
    made = 0
    for row in pool:
        for r in as_dialogue(row, rng):
            yield r
            made += 1
            if made >= n:
                return


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="verisum train dialogue", description=__doc__.split("\n")[0])
    ap.add_argument("--spans", action="append", required=True,
                    help="rows of verisum train spans (JSONL; repeatable): the pairs to rewrite")
    ap.add_argument("--n", type=int, default=15000, help="dialogue rows to write")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for path in a.spans:
        with open(path, encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    counts: Counter[str] = Counter()
    with open(a.out, "w", encoding="utf-8") as out:
        for r in dialogue_pairs(rows, n=a.n, seed=a.seed):
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
            form = r["kind"].rsplit(":", 1)[-1]
            counts[f"{form if form in ('reported', 'wrong-speaker') else 'turns'} {r['label']}"] += 1
    print(json.dumps(dict(counts)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
