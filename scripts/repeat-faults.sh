#!/usr/bin/env bash
# Runs the fault-injection suite (test/integration/faults) N times in a row (default 5) on the real
# engine, stopping at the first failing run. Prints each run's result and the chaos test's counts.
# Needs scripts/setup-docker.sh to have run (scripts/test-all.sh does it) and root (tmpfs, dockerd).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
npm run build >/dev/null
for i in $(seq "$RUNS"); do
  log=$(mktemp -t berth-faults-XXXX.log)
  if npx vitest run --project integration test/integration/faults >"$log" 2>&1; then status=passed; else status=FAILED; fi
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ +Tests ' | tr -s ' ')
  echo "run $i/$RUNS: $status —$summary"
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^chaos: ' | sed 's/^/  /' || true
  if [ "$status" = FAILED ]; then echo "  log: $log"; exit 1; fi
  rm -f "$log"
done
echo "fault suite passed $RUNS times in a row"
