"""Batch inputs for the batch tests: short news records, with a share of bad lines of every
kind the readers must turn into error rows (not JSON, not UTF-8, blank, a missing or mistyped
field, an empty source), some of them without a readable id."""

from __future__ import annotations

import json
import random
from pathlib import Path

_TOWNS = ["Dunmore", "Kell", "Ardlow", "Bexham", "Calder", "Morven", "Tarn", "Wexley"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def _record(i: int, rng: random.Random) -> dict:
    town, day, other = rng.choice(_TOWNS), rng.choice(_DAYS), rng.choice(_DAYS)
    pct, seats = rng.randint(2, 9), rng.randint(11, 40)
    doc = (f"The council of {town} approved the budget on {day}. The mayor thanked the {seats} members "
           f"for their work. Local taxes will rise by {pct} percent next year, the treasurer said.")
    summary = rng.choice([
        [f"The {town} council approved the budget."],
        [f"Taxes in {town} will rise by {pct + 3} percent."],
        [f"The council approved the budget on {other}.", f"The mayor thanked {seats} members."],
        [f"The mayor of {town} resigned after the vote."],
    ])
    return {"id": f"r{i:05d}", "doc": doc, "summary": summary}


def _bad_line(i: int) -> bytes:
    kind = i % 7
    if kind == 0:
        return b'{"id": "r%05d", "doc": "The council met.", "summary": ' % i  # cut short: not JSON
    if kind == 1:
        return b'{"doc": "The council met.", "summary": [' + b'"x"' * 3  # not JSON, no id
    if kind == 2:
        return json.dumps({"id": f"r{i:05d}", "doc": "The council met on Monday."}).encode()  # no summary
    if kind == 3:
        return json.dumps({"id": f"r{i:05d}", "doc": "The council met.", "summary": 42}).encode()
    if kind == 4:
        return '{"id": "r%05d", "doc": "Caf\u00e9 news.", "summary": "Caf\u00e9."}'.encode("latin-1") % i  # not UTF-8
    if kind == 5:
        return b"   "  # blank
    return json.dumps({"id": f"r{i:05d}", "doc": "  ", "summary": "Something."}).encode()  # empty source


def write_records(path: Path, n: int = 1000, bad_share: float = 0.05, seed: int = 0) -> list[bytes]:
    """Write ``n`` JSONL lines to ``path`` (``bad_share`` of them bad, spread evenly); returns the lines."""
    rng = random.Random(seed)
    every = round(1 / bad_share) if bad_share else 0
    lines = [(_bad_line(i) if every and i % every == every - 1 else json.dumps(_record(i, rng)).encode())
             for i in range(n)]
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return lines


def expected_ids(path: Path, lines: list[bytes]) -> list[str]:
    """The id each line's row must carry: its own, or ``FILE:LINE`` when none can be read."""
    from verisum.records import peek_id

    return [peek_id(line) or f"{path}:{no}" for no, line in enumerate(lines, start=1)]
