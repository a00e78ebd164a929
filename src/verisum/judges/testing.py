"""Conformance checks every judge must pass (like scikit-learn's ``check_estimator``).

    from verisum.judges.testing import check_judge
    check_judge(MyJudge(...))        # raises AssertionError saying what is wrong

What is checked:
- it satisfies the :class:`~verisum.judges.base.Judge` protocol; ``name`` is a non-empty str;
- ``params()`` is a dict that survives ``json.dumps``;
- ``judge([]) == []``;
- ``judge(pairs)`` returns a list with one :class:`Judgement` per pair, whose probabilities are
  valid (each in [0, 1], summing to 1), ``quotes`` a tuple of str, ``truncated`` a bool,
  ``extra`` a dict of str -> float;
- determinism: the same input twice gives the same output, within 1e-4 (only for a judge whose
  ``deterministic`` attribute is true, the default);
- order: reversing the input reverses the output (same tolerance), and judging the pairs one at
  a time gives the same answers as judging them together within 0.01 (same condition). The
  looser tolerance is for batch effects that are not bugs: padding, and int8 dynamic
  quantisation, whose activation scales are computed per batch (seen: up to 0.002); a pair
  answered out of order differs by far more.
- failures are :class:`~verisum.errors.BackendError` (or another VerisumError), never a bare
  exception: any other exception raised by the judge fails the check.
"""

from __future__ import annotations

import json
import math
from typing import Any, Sequence

from ..errors import VerisumError
from .base import LABELS, Judge, Judgement, Pair

__all__ = ["check_judge", "DEFAULT_PAIRS"]

#: A small set that exercises the three outcomes, unicode, and a long premise.
DEFAULT_PAIRS: tuple[Pair, ...] = (
    Pair(
        "The mayor opened the new bridge on Monday after three years of construction.",
        "The mayor opened the new bridge on Monday.",
    ),
    Pair(
        "The mayor opened the new bridge on Monday after three years of construction.",
        "The mayor closed the old bridge on Friday.",
    ),
    Pair(
        "The mayor opened the new bridge on Monday after three years of construction.",
        "The bridge cost 40 million euros, highlighting the importance of insulation.",
    ),
    Pair("Zoë Müller won the 10,000 m race in Zürich — her first title. 🎉", "Zoë Müller won a race in Zürich."),
    Pair(
        " ".join(["The council met again on Tuesday to discuss the budget for next year."] * 120),
        "The council discussed the budget.",
    ),
)

_TOL = 1e-4
_BATCH_TOL = 1e-2


def _call(judge: Judge, pairs: Sequence[Pair], what: str) -> list[Judgement]:
    try:
        out = judge.judge(pairs)
    except VerisumError:
        raise
    except Exception as exc:  # the point of the check: nothing else may escape
        raise AssertionError(
            f"judge {getattr(judge, 'name', judge)!r} raised {type(exc).__name__} on {what}; "
            f"backend failures must raise a verisum BackendError: {exc}"
        ) from exc
    return out


def _check_judgement(j: Any, where: str) -> None:
    assert isinstance(j, Judgement), f"{where}: expected a Judgement, got {type(j).__name__}"
    total = 0.0
    for name in LABELS:
        p = getattr(j, name)
        assert isinstance(p, float), f"{where}: {name} is {type(p).__name__}, not float"
        assert math.isfinite(p) and 0.0 <= p <= 1.0, f"{where}: {name}={p!r} is not a probability"
        total += p
    assert abs(total - 1.0) <= 1e-3, f"{where}: probabilities sum to {total}"
    assert isinstance(j.quotes, tuple) and all(isinstance(q, str) for q in j.quotes), f"{where}: quotes must be a tuple of str"
    assert isinstance(j.truncated, bool), f"{where}: truncated must be a bool"
    assert j.rationale is None or isinstance(j.rationale, str), f"{where}: rationale must be str or None"
    assert isinstance(j.extra, dict), f"{where}: extra must be a dict"
    for k, v in j.extra.items():
        assert isinstance(k, str) and isinstance(v, (int, float)) and math.isfinite(v), f"{where}: extra[{k!r}]={v!r}"


def _same(a: Judgement, b: Judgement, tol: float = _TOL) -> bool:
    return all(abs(getattr(a, n) - getattr(b, n)) <= tol for n in LABELS) and a.truncated == b.truncated


def check_judge(judge: Judge, pairs: Sequence[Pair] | None = None) -> list[Judgement]:
    """Run the conformance checks on ``judge``; returns its judgements of ``pairs``.

    Raises AssertionError naming the first check that fails. A VerisumError raised by the judge
    (e.g. BackendUnavailable when its model is missing) propagates unchanged, so a test can
    skip or assert on it.
    """
    pairs = tuple(DEFAULT_PAIRS if pairs is None else pairs)
    assert pairs, "check_judge needs at least one pair"

    assert isinstance(judge, Judge), f"{judge!r} does not implement the Judge protocol (name, judge, params)"
    name = judge.name
    assert isinstance(name, str) and name, f"judge name must be a non-empty str, not {name!r}"

    params = judge.params()
    assert isinstance(params, dict), f"params() must return a dict, not {type(params).__name__}"
    try:
        json.loads(json.dumps(params))
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"params() of {name!r} is not JSON-serialisable: {exc}") from exc

    empty = _call(judge, [], "an empty batch")
    assert empty == [], f"judge([]) must return [], not {empty!r}"

    together = _call(judge, pairs, f"{len(pairs)} pairs")
    assert isinstance(together, list), f"judge() must return a list, not {type(together).__name__}"
    assert len(together) == len(pairs), f"judge() returned {len(together)} judgements for {len(pairs)} pairs"
    for i, j in enumerate(together):
        _check_judgement(j, f"{name} pair {i}")

    if getattr(judge, "deterministic", True):
        again = _call(judge, pairs, "the same pairs again")
        for i, (a, b) in enumerate(zip(together, again)):
            assert _same(a, b), f"{name} is not deterministic on pair {i}: {a.probs} then {b.probs}"
        for i, p in enumerate(pairs):
            single = _call(judge, [p], f"pair {i} alone")
            assert len(single) == 1, f"judge([pair]) returned {len(single)} judgements"
            assert _same(single[0], together[i], _BATCH_TOL), (
                f"{name} pair {i}: alone {single[0].probs}, in a batch {together[i].probs}; "
                "judgements must come back in input order and not depend on the batch"
            )
        reordered = _call(judge, list(reversed(pairs)), "the pairs reversed")
        for i, j in enumerate(reversed(reordered)):
            assert _same(j, together[i]), f"{name}: reversing the input changed the judgement of pair {i}"
    return together
