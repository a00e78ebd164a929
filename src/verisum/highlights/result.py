"""What ``write_highlights`` returns: the bullets, their check, and what was left out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..verdicts import CheckResult, Label

__all__ = ["HighlightsResult", "Dropped"]


@dataclass(frozen=True, slots=True)
class Dropped:
    """A candidate bullet that was not printed, and why.

    ``label`` and ``score`` are the checker's verdict when the checker rejected it; both are
    None when it was left out for another reason (for example, a pronoun whose referent the
    article does not make clear).
    """

    text: str
    reason: str
    label: Label | None = None
    score: float | None = None


@dataclass(frozen=True, slots=True)
class HighlightsResult:
    """Highlights written for one article.

    highlights: the bullets, without "- " markers; every one passed the checker.
    check: the check of exactly these bullets (joined as "- " lines) against the article;
        None only when no candidate passed (``dropped`` then says why).
    dropped: candidates left out, each with the reason (and the checker's verdict, if any).
    meta: the writer, its parameters, n, timing.
    """

    highlights: tuple[str, ...]
    check: CheckResult | None
    dropped: tuple[Dropped, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None

    @property
    def text(self) -> str:
        """The bullets as "- " lines, the seed's format (no trailing newline)."""
        return "\n".join(f"- {h}" for h in self.highlights)
