"""Inputs for the report tests: system summaries of short news stories, shaped like
``../shared/data/news/system_outputs_dev.jsonl`` joined with its articles (``id``, ``system``,
``doc``, ``summary``), with a human ``label`` and, for the unfaithful ones, an ``error_type``.

Each system gets a different share of unfaithful summaries (a number swapped, an invented
claim), so a report by system has a known order to show."""

from __future__ import annotations

import json
from pathlib import Path

_TOWNS = ["Dunmore", "Kell", "Ardlow", "Bexham", "Calder"]


def _story(town: str, k: int) -> tuple[str, list[str], list[tuple[str, str]]]:
    seats, pct = 11 + k, 2 + k % 5
    doc = (f"The council of {town} approved the new budget on Monday after a long debate. "
           f"The mayor thanked the {seats} council members for their work on the plan. "
           f"Local taxes will rise by {pct} percent next year, the treasurer said. "
           f"Most of the money will go to the harbour and to two new schools.")
    good = [f"The council of {town} approved the new budget on Monday.",
            f"Local taxes will rise by {pct} percent next year."]
    bad = [(f"Local taxes will rise by {pct + 4} percent next year.", "number"),
           (f"The mayor of {town} resigned after the vote and left for Paris.", "invented")]
    return doc, good, bad


def system_records(systems: dict[str, int], per_system: int = 5) -> list[dict]:
    """``{system: how many of its per_system summaries are unfaithful}`` -> input records."""
    out = []
    for s_no, (system, n_bad) in enumerate(systems.items()):
        for k in range(per_system):
            town = _TOWNS[k % len(_TOWNS)]
            doc, good, bad = _story(town, k)
            rec = {"id": f"story-{k}/{system}", "system": system, "doc": doc}
            if k < n_bad:
                sentence, kind = bad[(k + s_no) % 2]
                rec.update(summary=[good[0], sentence], label=0, error_type=kind)
            else:
                rec.update(summary=list(good), label=1)
            out.append(rec)
    return out


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path
