#!/usr/bin/env bash
# Installs the npm dependencies exactly as locked, unless node_modules already matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.berth-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
npm ci --no-audit --no-fund
echo "$want" >"$stamp"
