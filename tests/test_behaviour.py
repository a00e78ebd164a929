"""Refactors change nothing: the checker's verdicts, scores and faults on the seed, the shipped
example and a fixed sample of bench-dev records equal the snapshot (``tests/support/behaviour.py``).

The snapshot was taken with the code from before the structural clean-up (issue 10, commit
ab30cc9), and the clean-up passed against it unchanged. It has been rewritten since only for a
change meant to change verdicts, said in its commit: the value-conflict rule (issue 14) lowered
the example's score from 0.402744 to 0.378081, and nothing else of the 34 records moved; the
judge's support margin in the combiner (2026-12-07) moved scores throughout and two verdicts
(Cao22's faithful cao22-train-0 now unsupported, Goyal21's unfaithful "enda varadkar" summary
now caught)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verisum.checker import Checker

from support.behaviour import behaviour, sample

SNAPSHOT = Path(__file__).parent / "snapshots" / "behaviour.json"


def test_behaviour_equals_the_snapshot(embedded_checker: Checker) -> None:
    want = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    items = sample()
    got = behaviour(embedded_checker, items)
    assert got, "nothing was checked"
    for key, result in got.items():
        expected = want[key]
        assert result["label"] == expected["label"], key
        assert result["score"] == pytest.approx(expected["score"], abs=1e-6), key
        assert len(result["sentences"]) == len(expected["sentences"]), key
        for s, e in zip(result["sentences"], expected["sentences"]):
            assert (s["label"], s["faults"]) == (e["label"], e["faults"]), key
            assert s["score"] == pytest.approx(e["score"], abs=1e-6), key
