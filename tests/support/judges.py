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


class DiesOnce:
    """The embedded judge, except that the process making its ``after``-th call exits at once
    (``os._exit``, as a killed or out-of-memory worker would), once per ``marker`` file: the
    file is created atomically, so exactly one worker of a pool dies, and the others (and its
    restarted self) go on judging as the embedded judge does."""

    name = "embedded"

    def __init__(self, marker: str, after: int = 3) -> None:
        from verisum.judges.embedded import EmbeddedJudge

        self.inner = EmbeddedJudge()
        self.marker, self.after, self.calls = marker, after, 0

    def __getattr__(self, name: str) -> Any:  # load, retriever, calibrator, premises, ...
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def params(self) -> dict[str, Any]:
        return self.inner.params()

    def judge(self, pairs: Sequence[Any]) -> list[Judgement]:
        import os

        self.calls += 1
        if self.calls == self.after:
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                os._exit(1)
        return self.inner.judge(pairs)
