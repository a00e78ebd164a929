"""The ``verisum`` command line: a click group whose subcommands load lazily.

Each subcommand lives in its own module and is imported only when it runs (or when its own
``--help`` is asked for), so ``verisum --help`` needs only the core dependencies and a
missing or broken command module cannot break the other commands.

Exit codes: 0 ran and everything is supported; 1 ran and found unsupported or contradicted
content; 2 bad usage, unreadable input or a failed backend.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Any, Callable

import click

from ..version import __version__

__all__ = ["main", "COMMANDS"]

#: command name -> (module, attribute, one-line help shown by `verisum --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("verisum.cli.check", "check", "Check a summary against its source article."),
    "highlights": ("verisum.cli.highlights", "highlights", "Write bullet highlights that pass the checker."),
    "eval-highlights": ("verisum.cli.highlights", "eval_highlights",
                        "Score written highlights (ROUGE, share passing) against references."),
    "fix": ("verisum.cli.fix", "fix", "Propose the smallest edits that make a summary supported, re-checked."),
    "perturb": ("verisum.cli.perturb", "perturb", "Write labelled unfaithful variants of a faithful summary."),
    "eval-fix": ("verisum.cli.fix", "eval_fix", "Measure fix: restored perturbations, repaired unfaithful summaries."),
    "batch": ("verisum.cli.batch", "batch",
              "Check or write highlights for JSONL / Parquet files, locally or on a Ray cluster."),
    "serve": ("verisum.cli.serve", "serve", "Serve the HTTP API and the web page."),
    "report": ("verisum.cli.report", "report", "Summarise many results in one page: flagged shares, groups, worst cases."),
    "eval": ("verisum.cli.evaluate", "eval_", "Evaluate the checker on labelled JSONL records."),
    "calibrate": ("verisum.cli.evaluate", "calibrate", "Fit the combiner, threshold and vetoes on your labelled data."),
    "bench": ("verisum.cli.evaluate", "bench", "Measure speed: latency, throughput, memory, cold start."),
    "train": ("verisum.cli.train", "train", "Train the shipped models: the checker, the retrieval vectors, the highlights ranker."),
}


class _Unavailable(click.Command):
    """Stands in for a command whose module cannot be imported: says why, exits 2."""

    def __init__(self, name: str, reason: str, short_help: str) -> None:
        super().__init__(name, callback=self._run, help=f"{short_help}\n\nUnavailable here: {reason}",
                         short_help=short_help, context_settings={"ignore_unknown_options": True},
                         params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)])
        self.reason = reason

    def _run(self, args: tuple[str, ...]) -> None:
        click.echo(f"verisum: error: the {self.name} command is unavailable: {self.reason}", err=True)
        raise SystemExit(2)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        if name not in COMMANDS:
            return None
        module, attr, short_help = COMMANDS[name]
        try:
            cmd = getattr(importlib.import_module(module), attr)
        except Exception as exc:  # a broken optional command must not break the others
            return _Unavailable(name, f"{type(exc).__name__}: {exc}", short_help)
        if not isinstance(cmd, click.Command):
            return _Unavailable(name, f"{module}.{attr} is not a click command", short_help)
        return cmd

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """click's main, except that a usage error is one line on stderr (``verisum: error:
        ...``, exit 2) like every other error, instead of click's three-line usage block."""
        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        # click's overloads of main() cannot be matched when ``*args`` might also fill
        # standalone_mode, so the call goes through a plain callable.
        click_main: Callable[..., Any] = super().main
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _one_line_warning
                rv = click_main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.Abort:
            click.echo("verisum: error: interrupted", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            click.echo(f"verisum: error: {exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        sys.exit(rv if isinstance(rv, int) else 0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The list comes from COMMANDS, so `verisum --help` imports no command module.
        rows = [(name, COMMANDS[name][2]) for name in sorted(COMMANDS)]
        rows += [(n, c.get_short_help_str()) for n, c in sorted(self.commands.items()) if n not in COMMANDS]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      file: Any = None, line: str | None = None) -> None:
    """A warning as the CLI's other messages read: one line on stderr, ``verisum: warning: ...``
    (Python's own form names a source file and quotes a line of it; the library keeps that)."""
    kind = "" if issubclass(category, UserWarning) else f"{category.__name__}: "
    click.echo(f"verisum: warning: {kind}{message}", err=True)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="verisum")
def main() -> None:
    """verisum: check machine-written summaries against their source, and write highlights
    that hold up.

    \b
    Exit codes: 0 everything supported; 1 unsupported or contradicted content found;
                2 bad usage, unreadable input or a failed backend; 3 an internal error.
    """
