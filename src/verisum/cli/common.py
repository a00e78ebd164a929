"""Helpers every command shares: errors -> exit codes, inputs, outputs, progress, the checker.

- :func:`handle_errors` is the ONE place a :class:`~verisum.errors.VerisumError` becomes a
  one-line ``verisum: error: ...`` on stderr and its exit code (2 for bad input or a failed
  backend). No command prints a traceback for bad input.
- :func:`exit_code_for` maps results to 0 (everything supported) or 1 (something is not).
- :func:`read_input` reads a path argument ("-" = stdin) with verisum's text rules.
- :func:`open_output` opens ``-o`` ("-" = stdout) as UTF-8 text.
- :func:`progress_reporter` draws a progress bar on stderr only when stderr is a terminal.
- :func:`judge_options` / :func:`decision_options` give every command the same checker flags,
  collected into one :class:`CheckerOptions` that builds the Checker.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, NoReturn, TypeVar

import click
from click.core import ParameterSource

from ..errors import InputError, VerisumError
from ..io import MAX_BULLETS, MAX_INPUT_BYTES, read_text

if TYPE_CHECKING:
    from ..checker import Checker
    from ..judges.base import PremiseRule

__all__ = [
    "EXIT_OK",
    "EXIT_FOUND",
    "EXIT_ERROR",
    "EXIT_INTERNAL",
    "fail",
    "handle_errors",
    "exit_code_for",
    "read_input",
    "read_source_and_summary",
    "source_options",
    "open_output",
    "progress_reporter",
    "judge_options",
    "decision_options",
    "limit_options",
    "CheckerOptions",
    "judge_params",
    "parse_judge_params",
    "API_KEY_ENVVARS",
]

EXIT_OK = 0  # ran, and everything is supported
EXIT_FOUND = 1  # ran, and found unsupported or contradicted content
EXIT_ERROR = 2  # bad usage, unreadable input, or a failed backend
EXIT_INTERNAL = 3  # a bug in verisum: never read as a verdict (0 or 1)

#: Where --api-key is read from when not given, in order.
API_KEY_ENVVARS = ("VERISUM_API_KEY", "OPENAI_API_KEY")

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print ``verisum: error: MESSAGE`` on stderr and exit with ``code``."""
    click.echo(f"verisum: error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Decorator for command callbacks: VerisumError -> one stderr line + its exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except VerisumError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except BrokenPipeError:
            # `verisum check ... | head`: the reader left; that is not an error of ours.
            with contextlib.suppress(Exception):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            sys.exit(EXIT_OK)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # a bug: say so, and never exit 0 or 1 (those are verdicts)
            if os.environ.get("VERISUM_DEBUG"):
                raise
            fail(f"internal error ({type(exc).__name__}: {exc}); please report it "
                 "(VERISUM_DEBUG=1 shows the traceback)", EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def exit_code_for(results: Iterable[Any]) -> int:
    """0 when every result is supported, 1 when any is not, 2 when any record could not be checked.

    Items are ``CheckResult``s (``.ok``) or ``RecordError``s (no ``.ok``).
    """
    code = EXIT_OK
    for r in results:
        ok = getattr(r, "ok", None)
        if ok is None:
            return EXIT_ERROR
        if not ok:
            code = EXIT_FOUND
    return code


def read_input(path: str, *, what: str, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """A text argument: a path, or "-" for standard input. Raises InputError subclasses."""
    return read_text(path, what=what, max_bytes=max_bytes, stdin=sys.stdin.buffer)


def source_options(jsonl_help: str) -> Callable[[F], F]:
    """The inputs of the commands that read an article and its summary: FILE, ``--summary``,
    ``--summary-text`` and ``--jsonl`` (with ``jsonl_help``); :func:`read_source_and_summary`
    reads the first three."""
    def decorate(fn: F) -> F:
        fn = click.option("--jsonl", "jsonl", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
                          help=jsonl_help)(fn)
        fn = click.option("--summary-text", metavar="TEXT",
                          help="The summary as literal text (bullets on separate lines).")(fn)
        fn = click.option("--summary", "summary_file", type=click.Path(dir_okay=False, allow_dash=True),
                          metavar="FILE", help="Read the summary from FILE; then all of the article FILE is the source.")(fn)
        return click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))(fn)
    return decorate


def read_source_and_summary(file: str | None, summary_file: str | None, summary_text: str | None, *,
                            max_bytes: int, max_bullets: int) -> tuple[str, str]:
    """The (source, summary) of the commands that take an article FILE: all of FILE with
    ``--summary FILE`` / ``--summary-text TEXT``, else FILE in the seed's form (the trailing
    bullet lines are the summary). Usage errors and bad input raise."""
    from ..io import check_summary_size, split_seed

    if file is None:
        raise click.UsageError("give an article FILE (or - for standard input), or --jsonl FILE")
    if summary_file is not None and summary_text is not None:
        raise click.UsageError("give --summary or --summary-text, not both")
    if file == "-" and summary_file == "-":
        raise click.UsageError("the article and the summary cannot both come from standard input")
    text = read_input(file, what="article", max_bytes=max_bytes)
    if summary_file is None and summary_text is None:
        seed = split_seed(text, max_bullets=max_bullets)
        return seed.source, seed.summary
    if summary_text is not None:
        summary = summary_text
    else:
        assert summary_file is not None  # with neither given, the seed form returned above
        summary = read_input(summary_file, what="summary", max_bytes=max_bytes)
    if not summary.strip():
        raise InputError("the summary is empty")
    check_summary_size(summary, max_bullets)
    return text, summary


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[IO[str]]:
    """``-o PATH`` as UTF-8 text with "\\n" line ends; None or "-" is standard output."""
    if path is None or path == "-":
        stream = sys.stdout
        yield stream
        stream.flush()
        return
    try:
        fh = open(Path(path), "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    with fh:
        yield fh


@contextlib.contextmanager
def progress_reporter(label: str, total: int | None = None) -> Iterator[Callable[[int, int | None], None] | None]:
    """A ``progress(done, total)`` callback drawing on stderr, or None when stderr is not a terminal."""
    stderr = sys.stderr
    if not stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(file=stderr), transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        def update(done: int, total_now: int | None) -> None:
            bar.update(task, completed=done, total=total_now if total_now is not None else total)

        yield update


class _UnitInterval(click.FloatRange):
    """A number in [0, 1]; click's FloatRange lets "nan" through (every comparison with NaN is
    false), which would make every claim unsupported without a word."""

    name = "number in [0, 1]"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        out = super().convert(value, param, ctx)
        if out is not None and out != out:
            self.fail(f"{value!r} is not a number in [0, 1]", param, ctx)
        return out


_UNIT_INTERVAL = _UnitInterval(0.0, 1.0)

#: The keyword arguments the shared checker flags arrive as (collected into CheckerOptions).
_JUDGE_FLAGS = ("backend", "model", "base_url", "api_key")
_DECISION_FLAGS = ("threshold", "calibration", "top_k", "premises", "judge_param")


@dataclass(frozen=True)
class CheckerOptions:
    """What the shared flags say about the Checker: which judge, and how it decides.

    Commands get one of these (as ``options``) instead of a keyword argument per flag, and
    build their Checker from it: ``options.build(max_bytes=..., max_bullets=...)``.
    ``given`` names the flags set on the command line (not left at their defaults), for
    commands such as ``serve`` whose environment settings only a given flag overrides.
    """

    backend: str = "embedded"
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    threshold: float | None = None
    calibration: str | None = None
    top_k: int = 3
    premises: PremiseRule | None = None
    extra_params: Mapping[str, Any] = field(default_factory=dict)
    given: frozenset[str] = frozenset()

    def judge_params(self) -> dict[str, Any]:
        """The judge's constructor parameters: from --model/--base-url/--api-key, then --judge-param."""
        return {**judge_params(self.backend, self.model, self.base_url, self.api_key), **self.extra_params}

    def build(self, *, max_bytes: int = MAX_INPUT_BYTES, max_bullets: int = MAX_BULLETS) -> "Checker":
        """A Checker from these options (nothing loads until first use)."""
        from ..checker import Checker

        return Checker(
            self.backend,
            judge_params=self.judge_params(),
            top_k=self.top_k,
            threshold=self.threshold,
            calibration=self.calibration,
            premises=self.premises,
            max_source_chars=max_bytes,
            max_summary_sentences=max_bullets,
        )


def parse_judge_params(values: Iterable[str]) -> dict[str, Any]:
    """``--judge-param KEY=VALUE`` pairs as a dict; a VALUE that reads as JSON (a number, true,
    null, a list) is that value, anything else is the string."""
    out: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise InputError(f"--judge-param takes KEY=VALUE (e.g. encoder=minilm), not {item!r}")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out


def _collect_options(fn: F, flags: tuple[str, ...]) -> F:
    """Wrap a command callback so that the shared flags reach it as one ``options`` argument."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in flags if name in kwargs}
        ctx = click.get_current_context(silent=True)
        given = frozenset(
            name for name in values
            if ctx is not None and ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)
        )
        extra = values.pop("judge_param", ())
        try:
            extra_params = parse_judge_params(extra)
        except InputError as exc:
            raise click.UsageError(str(exc)) from None
        return fn(*args, options=CheckerOptions(**values, extra_params=extra_params, given=given), **kwargs)

    return wrapper  # type: ignore[return-value]


def judge_options(fn: F) -> F:
    """The backend and decision flags shared by check, eval, calibrate and serve; the command
    gets them as ``options: CheckerOptions``."""
    fn = _collect_options(fn, _JUDGE_FLAGS + _DECISION_FLAGS)
    options = [
        click.option("--backend", default="embedded", show_default=True, metavar="NAME",
                     help="Judge backend: embedded (offline, shipped), hf (a Hugging Face NLI model), "
                          "llm (an OpenAI-compatible chat endpoint), or any registered judge."),
        click.option("--model", default=None, metavar="NAME_OR_PATH",
                     help="embedded: fast (the shipped MiniLM, default), accurate (MPNet, once shipped) or a "
                          "model folder; hf: local model folder "
                          "or hub id; llm: model name on the endpoint."),
        click.option("--base-url", default=None, metavar="URL",
                     help="llm: endpoint base URL, e.g. http://127.0.0.1:8080/v1 [env VERISUM_BASE_URL, then OPENAI_BASE_URL]."),
        click.option("--api-key", default=None, metavar="KEY",
                     help="llm: API key [env VERISUM_API_KEY, then OPENAI_API_KEY]."),
        *_decision_flags(),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def decision_options(fn: F) -> F:
    """How the Checker decides (threshold, calibration, evidence per claim, judge parameters),
    for commands with backend flags of their own (``highlights``); the command gets them as
    ``options: CheckerOptions`` and sets the judge fields itself (``dataclasses.replace``)."""
    fn = _collect_options(fn, _DECISION_FLAGS)
    for option in reversed(_decision_flags()):
        fn = option(fn)
    return fn


def _decision_flags() -> list[Callable[[F], F]]:
    return [
        click.option("--threshold", type=_UNIT_INTERVAL, default=None,
                     help="Score at or above which a claim is supported [default: the calibrated one]."),
        click.option("--calibration", type=click.Path(dir_okay=False), default=None, metavar="FILE",
                     help="A calibration file written by `verisum calibrate`."),
        click.option("--top-k", type=click.IntRange(1, 20), default=3, show_default=True,
                     help="Evidence sentences retrieved per claim."),
        premises_option(),
        click.option("--judge-param", multiple=True, metavar="KEY=VALUE",
                     help="A keyword argument for the judge's constructor, repeatable; VALUE is read as "
                          "JSON when it can be (embedded: encoder=minilm, workers=2, max_length=256; "
                          "hf: device=cuda; llm: timeout=30)."),
    ]


def premises_option() -> Callable[[F], F]:
    """``--premises``: what each claim is judged against (``Checker(premises=...)``)."""
    from ..judges.base import PREMISE_RULES

    return click.option(
        "--premises", type=click.Choice(PREMISE_RULES), default=None,
        help="What each claim is judged against: join_first (its evidence joined, single sentences "
             "only where the join does not settle it), sentences (the join and every sentence alone: "
             "the most judge calls) or joined (the join alone: one judge call a claim) [default: the "
             "model's own rule, else join_first].")


def limit_options(fn: F) -> F:
    """Input limits, as flags."""
    fn = click.option("--max-bullets", type=click.IntRange(1), default=MAX_BULLETS, show_default=True,
                      help="Most summary bullets or sentences accepted per summary.")(fn)
    fn = click.option("--max-bytes", type=click.IntRange(1), default=MAX_INPUT_BYTES, show_default=True,
                      help="Largest input accepted, in bytes (per file or per JSONL line).")(fn)
    return fn


def judge_params(backend: str, model: str | None, base_url: str | None, api_key: str | None) -> dict[str, Any]:
    """The constructor parameters the chosen judge gets from the shared flags (unset ones left out)."""
    if api_key is None:
        api_key = next((os.environ[v] for v in API_KEY_ENVVARS if os.environ.get(v)), None)
    params: dict[str, Any] = {}
    if model is not None:
        # The embedded judge takes a model folder; hf a folder or hub id; llm a model name.
        params["model_dir" if backend == "embedded" else "model"] = model
    if backend == "llm":
        if base_url is not None:
            params["base_url"] = base_url
        if api_key is not None:
            params["api_key"] = api_key
    elif base_url is not None:
        raise InputError(f"--base-url is for --backend llm, not {backend}")
    return params
