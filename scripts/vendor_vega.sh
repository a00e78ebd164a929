#!/usr/bin/env bash
# Re-vendor the chart library of `verisum report` (src/verisum/report/static/) from the npm
# registry, pinned: vega, vega-lite and vega-embed as published (their minified UMD builds), and
# vega-interpreter bundled to one IIFE with esbuild (it ships as an ES module only; it lets the
# page run Vega's expressions without eval, so the page's Content-Security-Policy needs no
# 'unsafe-eval'). Source-map comments are removed: the page is one file and fetches nothing.
# Usage: scripts/vendor_vega.sh   (needs node and npm; writes the files and prints their sha256)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=src/verisum/report/static
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(
    cd "$WORK"
    npm init -y >/dev/null
    npm install --no-audit --no-fund --silent vega@6.4.0 vega-lite@6.5.0 vega-embed@7.3.0 vega-interpreter@2.3.2 esbuild@0.25.12
    echo "export { expressionInterpreter } from 'vega-interpreter';" > interp.js
    npx esbuild interp.js --bundle --format=iife --global-name=vegaInterpreter --minify --log-level=warning \
        --outfile=vega-interpreter.min.js
)
mkdir -p "$OUT"
for f in node_modules/vega/build/vega.min.js node_modules/vega-lite/build/vega-lite.min.js \
         node_modules/vega-embed/build/vega-embed.min.js vega-interpreter.min.js; do
    sed -e 's|//# sourceMappingURL=.*$||' "$WORK/$f" > "$OUT/$(basename "$f")"
done
{
    for p in vega vega-lite vega-embed vega-interpreter; do
        echo "== $p ($(node -p "require('$WORK/node_modules/$p/package.json').version")) =="
        cat "$WORK/node_modules/$p/LICENSE"
        echo
    done
} > "$OUT/LICENSE-vega.txt"
(cd "$OUT" && sha256sum ./*.js)
