"""Synthetic premise/claim pairs for training the embedded NLI judge.

Every label comes from HOW the pair was made:

* supported: the claim is a source sentence (verbatim, a minority), a compression of it
  (dropped parenthetical / appositive / trailing clause / leading adverbial / attribution),
  a clause cut out of it, a re-ordered attribution, a number-format variant, or a fusion of two
  source sentences whose evidence lies in two premise sentences.
* contradicted: a positive with ONE change: an entity swapped for another of the same kind
  (same article, sometimes another article), a number/date/month/day changed, negation
  inserted or removed, a predicate replaced by its antonym, two entities swapped
  (agent/patient), the speaker swapped, or a discourse link flipped.
* unsupported: the claim's source sentence is removed from the premise (premise = other similar
  sentences of the same article), a positive with a trailing clause taken from another article,
  an inserted time/place not in the premise, a same-topic sentence of another article, or a
  positive fused with a clause from another article.

The premise imitates inference-time retrieval: the evidence sentence(s) plus 1-2 similar
(lexical overlap) or adjacent sentences of the same article, in document order (20%: 1-2
sentences only). Generation is deterministic for a given seed.

The package: :mod:`.words` (its own word rules), :mod:`.transforms`, :mod:`.pools`,
:mod:`.generator`, :mod:`.driver` (corpus loading, worker processes, ``main``) and
:mod:`.balance`.

Run: ``python -m verisum.training.synth --out .train/synth_train.jsonl --val-out .train/synth_val.jsonl``
"""
from __future__ import annotations

from .balance import balance, surface_cell
from .driver import generate, load_texts, main
from .generator import KIND_WEIGHTS, Article, Generator, build_premise
from .pools import Pools
from .words import ENT_RE, PLACES, content_set, entities, overlap, recall, split_sentences
from .transforms import COMPRESSIONS, LABELS, t_number_format, append_clause, c_antonym, c_discourse, c_negation, c_number, insert_circumstance, invented_tail, recombine, split_predicate, swap_agents, swap_entity
from .pools import TRAIL_RE

__all__ = [
    "Article",
    "COMPRESSIONS",
    "ENT_RE",
    "Generator",
    "KIND_WEIGHTS",
    "LABELS",
    "PLACES",
    "Pools",
    "TRAIL_RE",
    "append_clause",
    "balance",
    "build_premise",
    "c_antonym",
    "c_discourse",
    "c_negation",
    "c_number",
    "content_set",
    "entities",
    "generate",
    "insert_circumstance",
    "invented_tail",
    "load_texts",
    "main",
    "overlap",
    "recall",
    "recombine",
    "split_predicate",
    "split_sentences",
    "surface_cell",
    "swap_agents",
    "swap_entity",
    "t_number_format",
]
