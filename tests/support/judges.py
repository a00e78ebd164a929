"""Stand-in judges for plumbing tests (they know nothing about support)."""

from __future__ import annotations

import re
from typing import Any, Sequence

from verisum.judges import Judgement

_WORD = re.compile(r"\w+")


class RejectWords:
    """Rejects any claim containing one of ``words`` (as a whole word); supports the rest."""

    name = "reject-words"

    def __init__(self, words: Sequence[str]) -> None:
        self.words = [w.lower() for w in words]

    def params(self) -> dict[str, Any]:
        return {"words": self.words}

    def judge(self, pairs: Sequence[Any]) -> list[Judgement]:
        return [
            Judgement(0.02, 0.08, 0.9) if any(w in _WORD.findall(p.hypothesis.lower()) for w in self.words)
            else Judgement(0.98, 0.01, 0.01)
            for p in pairs
        ]
