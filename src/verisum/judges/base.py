"""The judge protocol: the one interface every backend implements.

A judge reads (premise, hypothesis) pairs — the premise is evidence quoted from the source,
the hypothesis a claim of the summary — and returns, for each pair, probabilities that the
premise supports, contradicts or does not mention the hypothesis. Judges are constructed
cheaply (parameters only, scikit-learn style); heavy resources load on first use or on an
explicit ``load()``. A pair that cannot be judged raises a :class:`~verisum.errors.BackendError`:
a judge never fails open by returning "supported".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Sequence, get_args, runtime_checkable

__all__ = ["Pair", "Judgement", "Judge", "CostlyJudge", "LABELS", "PREMISE_RULES", "PremiseRule"]

#: The judge's three outcomes, in the order every backend reports them.
LABELS = ("supported", "contradicted", "unsupported")


@dataclass(frozen=True, slots=True)
class Pair:
    premise: str  # evidence from the source
    hypothesis: str  # the claim, as a stand-alone statement


@dataclass(frozen=True, slots=True)
class Judgement:
    supported: float
    contradicted: float
    unsupported: float
    #: Words of the hypothesis the judge says are at fault (quotes, for LLM judges).
    quotes: tuple[str, ...] = ()
    rationale: str | None = None
    #: The premise had to be cut to fit the model's input.
    truncated: bool = False
    #: A judge with a fault head: (start, end, P(at fault)) of each word piece of the
    #: hypothesis, character offsets into it.
    token_faults: tuple[tuple[int, int, float], ...] = ()
    extra: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in LABELS:
            p = getattr(self, name)
            if not (0.0 <= p <= 1.0):
                raise ValueError(f"{name} probability {p!r} is not in [0, 1]")
        total = self.supported + self.contradicted + self.unsupported
        if abs(total - 1.0) > 1e-3:
            raise ValueError(f"probabilities sum to {total:.4f}, not 1")

    @property
    def probs(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in LABELS}


@runtime_checkable
class Judge(Protocol):
    """What the Checker needs from a backend."""

    name: str

    def judge(self, pairs: Sequence[Pair]) -> list[Judgement]:
        """One judgement per pair, in order. Raises BackendError rather than guessing."""
        ...

    def params(self) -> dict[str, Any]:
        """The settings that reproduce this judge (recorded in every result's meta)."""
        ...


#: The premise rules a Checker knows (see ``Checker(premises=...)``) and a judge may declare.
PremiseRule = Literal["join_first", "sentences", "joined"]
PREMISE_RULES: tuple[PremiseRule, ...] = get_args(PremiseRule)


class CostlyJudge(Judge, Protocol):
    """Optional: a judge whose calls are expensive says how many the Checker may make.

    ``premises``: one of :data:`PREMISE_RULES`, the rule the Checker uses unless it is given one:
    "join_first" (the Checker's default: the evidence joined first, single sentences only where
    the join does not settle the claim), "sentences" (every evidence sentence alone and all of
    them joined) or "joined" (once per claim).
    ``occlusion``: True (default) lets the Checker find the words at fault by asking about the
    claim with each content word left out (one call per word of a rejected claim).
    """

    premises: PremiseRule
    occlusion: bool
