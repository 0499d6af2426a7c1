#!/usr/bin/env bash
# Sets up everything and runs the whole test suite: unit tests (fake Docker, real SQLite) and
# integration tests (the real Docker engine and the local registry). Fails loudly, never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/setup-docker.sh
npm run --silent typecheck
npm run --silent build
mkdir -p .tmp
rm -f .tmp/vitest-report.json
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-report.json
status=$?
set -e
# One plain closing line with the counts, whatever the reporter printed above it.
node -e '
  const fs = require("node:fs");
  const path = ".tmp/vitest-report.json";
  if (!fs.existsSync(path)) { console.log("tests: 0 passed, 1 failed (vitest wrote no report)"); process.exit(0); }
  const r = JSON.parse(fs.readFileSync(path, "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
'
exit "$status"
