"""The real-server test fixture reports a crashed llama.cpp server as a crash, with its signal.

(CI once read "connection refused" in four tests when the server's native build had died with
SIGSEGV on its first request; the fixture now names the cause.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.llama_server import LlamaServer


def _server(code: str, tmp_path: Path) -> LlamaServer:
    proc = subprocess.Popen([sys.executable, "-c", code])
    proc.wait(timeout=60)
    return LlamaServer("http://127.0.0.1:1/v1", "m", proc, tmp_path / "server.log")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "killed by SIGSEGV"),
        ("import sys; sys.exit(3)", "exited with 3"),
    ],
)
def test_exit_reason_names_how_the_server_ended(code: str, reason: str, tmp_path: Path) -> None:
    assert _server(code, tmp_path).exit_reason() == reason


def test_a_running_server_has_no_exit_reason(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        server = LlamaServer("http://127.0.0.1:1/v1", "m", proc, tmp_path / "server.log")
        assert server.exit_reason() is None
        assert server.log_tail() == ""  # no log written yet: empty, not an error
    finally:
        proc.kill()
        proc.wait()


def test_answers_reports_a_build_that_cannot_answer(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (scripts/install_llama_server.sh)")
    from support.llama_server import answers

    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"GGUF? no")
    why = answers(bogus, timeout=120)
    assert why is not None and why.startswith("could not answer a chat request (exit code 1)")
