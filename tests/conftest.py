"""Shared fixtures (all of them live here).

- ``shared_dir`` / ``seed_path``: ../shared and the seed case; skip when absent.
- ``example_article``: the example article shipped in the package.
- ``fake_judge``: a deterministic judge for PLUMBING tests only (word overlap; never
  reported as the model). ``fake_checker`` is a Checker around it.
- ``fake_backend``: registers the fake judge as ``--backend fake`` for CLI tests.
- ``embedded_checker``: the real default Checker with the shipped model (session-scoped).
- ``cli``: runs ``verisum`` in-process with click's CliRunner, stdout and stderr apart.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator, Sequence

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED = SHARED / "seed" / "000_1f70528139c8721f.txt"
EXAMPLE_ARTICLE = REPO / "src" / "verisum" / "examples" / "article.txt"

_WORD = re.compile(r"\w+")
_STOP = frozenset("a an the and or of to in on at by for with from as is are was were be has have had it its this that".split())


class FakeJudge:
    """Deterministic stand-in judge: P(supported) grows with the hypothesis words the premise has.

    For plumbing tests only; it knows nothing about support.
    """

    name = "fake"

    def __init__(self, contradict_words: Sequence[str] = ("not",), model: str | None = None) -> None:
        self.contradict_words = tuple(contradict_words)
        self.model = model  # "fail": every call raises BackendUnavailable, as a dead backend would
        self.calls = 0

    def params(self) -> dict[str, Any]:
        return {"contradict_words": list(self.contradict_words), "model": self.model}

    def judge(self, pairs: Sequence[Any]) -> list[Any]:
        from verisum.errors import BackendUnavailable
        from verisum.judges import Judgement

        self.calls += 1
        if self.model == "fail":
            raise BackendUnavailable("the fake backend is down (model='fail')")
        out = []
        for pair in pairs:
            hyp = [w for w in _WORD.findall(pair.hypothesis.lower()) if w not in _STOP]
            prem = set(_WORD.findall(pair.premise.lower()))
            cover = sum(w in prem for w in hyp) / max(len(hyp), 1)
            neg = any(w in hyp for w in self.contradict_words) != any(w in prem for w in self.contradict_words)
            supported = 0.02 + 0.96 * cover * (0.2 if neg else 1.0)
            contradicted = (1.0 - supported) * (0.8 if neg else 0.2)
            out.append(Judgement(supported=supported, contradicted=contradicted,
                                 unsupported=1.0 - supported - contradicted))
        return out


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (the shared data stays outside the repo)")
    return SHARED


@pytest.fixture(scope="session")
def seed_path(shared_dir: Path) -> Path:
    if not SEED.is_file():
        pytest.skip(f"seed case {SEED} is absent")
    return SEED


@pytest.fixture(scope="session")
def example_article() -> Path:
    assert EXAMPLE_ARTICLE.is_file(), f"{EXAMPLE_ARTICLE} must ship with the package"
    return EXAMPLE_ARTICLE


@pytest.fixture
def fake_judge() -> FakeJudge:
    return FakeJudge()


@pytest.fixture
def fake_checker(fake_judge: FakeJudge):
    from verisum.checker import Checker

    return Checker(fake_judge, top_k=2)


@pytest.fixture
def fake_backend(monkeypatch: pytest.MonkeyPatch) -> str:
    """Makes ``--backend fake`` (and ``get_judge("fake")``) build a FakeJudge."""
    from verisum import judges

    monkeypatch.setitem(judges._BUILTIN, "fake", f"{FakeJudge.__module__}:FakeJudge")
    return "fake"


@pytest.fixture(scope="session")
def embedded_checker():
    """The real default Checker (the shipped model), loaded once per session."""
    from verisum.checker import Checker

    return Checker().load()


class CliResult:
    def __init__(self, exit_code: int, stdout: str, stderr: str, exception: BaseException | None) -> None:
        self.exit_code, self.stdout, self.stderr, self.exception = exit_code, stdout, stderr, exception

    def __repr__(self) -> str:
        return f"CliResult(exit_code={self.exit_code}, stderr={self.stderr[-500:]!r}, stdout={self.stdout[:300]!r})"


@pytest.fixture
def cli():
    """``cli("check", path, "--format", "json", input=b"...")`` -> CliResult (exit_code, stdout, stderr)."""
    from click.testing import CliRunner

    from verisum.cli import main

    def run(*args: str, input: bytes | str | None = None) -> CliResult:
        runner = CliRunner()
        res = runner.invoke(main, [str(a) for a in args], input=input, catch_exceptions=True)
        exc = res.exception if res.exception and not isinstance(res.exception, SystemExit) else None
        return CliResult(res.exit_code, res.stdout, res.stderr, exc)

    return run


# -- a real browser (headless Debian Chromium, driven by playwright-python) ------------------
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A launched Chromium; skips (saying why) where /usr/bin/chromium or playwright is absent."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install chromium to run the browser tests")
    with sync_api.sync_playwright() as pw:
        try:
            b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:  # noqa: BLE001 - a browser that cannot start is a skip, with the reason
            pytest.skip(f"chromium does not start here: {exc}")
        yield b
        b.close()
