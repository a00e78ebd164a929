"""Reading inputs: bytes -> text, and the seed's plain-text form (JSONL records: :mod:`verisum.records`).

Text rules (one rule, everywhere):

- input must be UTF-8; anything else raises :class:`~verisum.errors.BadEncoding` naming the
  byte offset and how to convert the file; NUL bytes raise :class:`~verisum.errors.NotText`;
- a leading byte-order mark is removed, and every offset verisum reports counts from the
  first character after it;
- CRLF (and any other) line ends are kept as they are, so offsets match the user's file;
- nothing is stripped or normalised: the source and summary are exact slices of the text.

Limits are parameters with documented defaults (:data:`MAX_INPUT_BYTES` per input,
:data:`MAX_BULLETS` per summary); going over raises :class:`~verisum.errors.InputTooLarge`
with the limit and how to raise it.
"""

from __future__ import annotations

import contextlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from .document import text_lines
from .errors import BadEncoding, EmptyInput, InputError, InputTooLarge, NotText

__all__ = [
    "MAX_INPUT_BYTES",
    "MAX_BULLETS",
    "SUMMARY_LINE_RE",
    "SeedInput",
    "open_binary",
    "read_bytes",
    "decode_text",
    "read_text",
    "split_seed",
    "count_bullets",
    "check_summary_size",
]

#: Default size limit for one input (file, stdin, JSONL record): 10 MB.
MAX_INPUT_BYTES = 10_000_000
#: Default limit on the number of bullet lines in one summary (the Checker's sentence limit,
#: ``verisum.checker.MAX_SUMMARY_SENTENCES``, which imports this one).
MAX_BULLETS = 200

#: A summary line in the seed's form: "- ", "* " or "• " at the start of the line.
SUMMARY_LINE_RE = re.compile(r"[ \t]*[-*•][ \t]+\S")

_BOM = "\ufeff"


def size_hint(limit: int) -> str:
    return f"{limit:,} bytes ({limit / 1_000_000:g} MB)"


@contextlib.contextmanager
def open_binary(path: str | Path, *, stdin: IO[bytes] | None = None) -> Iterator[IO[bytes]]:
    """``path`` opened for binary reading ("-" = standard input, left open); OSError -> InputError."""
    name = "standard input" if str(path) == "-" else str(path)
    if str(path) == "-":
        yield stdin if stdin is not None else sys.stdin.buffer
        return
    try:
        if Path(path).is_dir():
            raise InputError(f"{name} is a directory; give a text file")
        fh = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError as exc:
        raise InputError(f"{name}: no such file") from exc
    except PermissionError as exc:
        raise InputError(f"{name}: permission denied") from exc
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from exc
    with fh:
        yield fh


def read_bytes(path: str | Path, *, max_bytes: int = MAX_INPUT_BYTES, stdin: IO[bytes] | None = None) -> bytes:
    """The bytes of ``path`` ("-" = standard input), refusing more than ``max_bytes``.

    Reads at most ``max_bytes + 1`` bytes, so a huge file never lands in memory.
    """
    name = "standard input" if str(path) == "-" else str(path)
    with open_binary(path, stdin=stdin) as fh:
        try:
            data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(f"cannot read {name}: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise InputTooLarge(
            f"{name} is larger than the limit of {size_hint(max_bytes)}; "
            "split it, or raise the limit with --max-bytes"
        )
    return data


def decode_text(data: bytes, *, name: str = "input", path: str | None = None) -> str:
    """Strict UTF-8 -> str. The BOM is removed; line ends are kept.

    ``name`` says what the data is in messages; ``path`` is the file to name in the fix.
    """
    if b"\x00" in data:
        at = data.index(b"\x00")
        raise NotText(f"{name} is binary, not text (NUL byte at offset {at}); give a UTF-8 text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadEncoding(
            f"{name} is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            f"convert it first, e.g. iconv -f latin1 -t utf-8 {path or 'FILE'} > fixed.txt"
        ) from exc
    if text.startswith(_BOM):
        text = text[1:]
    return text


def read_text(
    path: str | Path, *, what: str = "input", max_bytes: int = MAX_INPUT_BYTES, stdin: IO[bytes] | None = None
) -> str:
    """A whole text input ("-" = stdin), decoded; empty or blank input raises EmptyInput."""
    name = "standard input" if str(path) == "-" else str(path)
    text = decode_text(read_bytes(path, max_bytes=max_bytes, stdin=stdin), name=name,
                       path=None if str(path) == "-" else str(path))
    if not text.strip():
        raise EmptyInput(f"the {what} ({name}) is empty")
    return text


@dataclass(frozen=True, slots=True)
class SeedInput:
    """An article file in the seed's form, cut into exact slices of ``text``."""

    text: str
    title: str | None  # the first line when the body follows on later lines, else None
    source: str  # the article: everything before the summary lines (title included)
    summary: str  # the trailing "- " / "* " / "• " lines, exactly as in the file
    summary_start: int  # offset of ``summary`` in ``text``


def split_seed(text: str, *, require_summary: bool = True, max_bullets: int = MAX_BULLETS) -> SeedInput:
    """Split the seed's form: [title line] body, then summary lines starting with "- ", "* ", "• ".

    The summary is the run of bullet lines (blank lines allowed between them) at the END of
    the file; the source is everything before it. Both are exact slices of ``text``, so
    offsets into them are offsets into the file after ``len(source)``/``summary_start``.
    """
    lines = list(text_lines(text))  # (start, end) of each line's content, as the sentence splitter sees it
    filled = [(lo, hi) for lo, hi in lines if text[lo:hi].strip()]
    n_summary = 0
    for lo, hi in reversed(filled):
        if not SUMMARY_LINE_RE.match(text, lo, hi):
            break
        n_summary += 1
    if n_summary == 0:
        if require_summary:
            raise EmptyInput(
                "no summary found: end the file with summary lines that start with \"- \", "
                "or give the summary with --summary FILE or --summary-text TEXT"
            )
        body, summary_start, summary_end = filled, len(text), len(text)
    else:
        if n_summary > max_bullets:
            raise InputTooLarge(
                f"the summary has {n_summary:,} bullet lines; the limit is {max_bullets:,} "
                "(raise it with --max-bullets)"
            )
        body = filled[:-n_summary]
        if not body:
            raise EmptyInput("the article is empty: the file holds only summary lines")
        # The summary runs from its first bullet to the end of its last (the final line end is not part of it).
        summary_start, summary_end = filled[-n_summary][0], filled[-1][1]
    source_end = body[-1][1] if n_summary else len(text)
    title = text[body[0][0] : body[0][1]] if len(body) > 1 else None
    source, summary = text[:source_end], text[summary_start:summary_end]
    return SeedInput(text=text, title=title, source=source, summary=summary, summary_start=summary_start)


def count_bullets(summary: str) -> int:
    """Non-blank lines of a summary (each bullet or sentence line counts once)."""
    return sum(1 for line in summary.splitlines() if line.strip())


def check_summary_size(summary: str | list[str], max_bullets: int = MAX_BULLETS, what: str = "the summary") -> None:
    """Raise InputTooLarge when a summary (text or list of bullets) has more than ``max_bullets``."""
    n = len(summary) if isinstance(summary, list) else count_bullets(summary)
    if n > max_bullets:
        raise InputTooLarge(
            f"{what} has {n:,} bullets; the limit is {max_bullets:,} (raise it with --max-bullets)"
        )
