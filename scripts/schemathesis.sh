#!/usr/bin/env bash
# Schemathesis against a live `verisum serve` (the shipped model): every operation of the served
# OpenAPI document, every check, a bounded number of examples. CI runs it; so can you.
#   scripts/schemathesis.sh [extra schemathesis args]     env: EXAMPLES=30 PORT=<free>
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES=${EXAMPLES:-30}
PORT=${PORT:-$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
URL="http://127.0.0.1:$PORT"
verisum serve --host 127.0.0.1 --port "$PORT" --log-level warning &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
    if python -c "import httpx, sys; sys.exit(0 if httpx.get('$URL/health', timeout=2).json().get('ready') else 1)" 2>/dev/null; then
        break
    fi
    sleep 0.5
done
schemathesis run "$URL/openapi.json" --checks all --max-examples "$EXAMPLES" --workers 1 \
    --phases examples,coverage,fuzzing --suppress-health-check too_slow,data_too_large "$@"
