"""Bullet highlights that pass verisum's own checker.

    from verisum.highlights import write_highlights
    result = write_highlights(article, n=3)        # offline extractive writer, embedded checker
    print(result.text)                             # "- " lines, the seed's format
    result.check                                   # the CheckResult of exactly those bullets
    result.dropped                                 # candidates left out, and why

Writers: ``extractive`` (default; offline, fast) and ``llm`` (any OpenAI-compatible chat
endpoint; rejected bullets are rewritten with the checker's finding, then dropped).
Importing this package loads no model.
"""

from .result import Dropped, HighlightsResult
from .writer import Candidate, Finding, Proposal, Writer, available_writers, get_writer, write_highlights, write_highlights_many

__all__ = [
    "write_highlights",
    "write_highlights_many",
    "HighlightsResult",
    "Dropped",
    "Writer",
    "Candidate",
    "Proposal",
    "Finding",
    "get_writer",
    "available_writers",
]
