#!/usr/bin/env bash
# Sets up everything and runs the whole test suite: unit tests (fake Docker, real SQLite) and
# integration tests (the real Docker engine and the local registry). Fails loudly, never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/setup-docker.sh
npm run --silent typecheck
npm test
