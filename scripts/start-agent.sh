#!/usr/bin/env bash
# Sets up Docker and the local registry, builds berth, starts `agent run` in the background with its
# state under ${BERTH_DATA_DIR:-/var/lib/berth}, and applies the example task.
# Stop it with: kill "$(cat "${BERTH_DATA_DIR:-/var/lib/berth}/agent.pid")"
set -euo pipefail
cd "$(dirname "$0")/.."
export BERTH_DATA_DIR=${BERTH_DATA_DIR:-/var/lib/berth}
bash scripts/install-deps.sh
bash scripts/setup-docker.sh
npm run --silent build
mkdir -p "$BERTH_DATA_DIR"
if [ -f "$BERTH_DATA_DIR/agent.pid" ] && kill -0 "$(cat "$BERTH_DATA_DIR/agent.pid")" 2>/dev/null; then
  echo "agent already running (pid $(cat "$BERTH_DATA_DIR/agent.pid"))"
else
  setsid node dist/cli/main.js run --log-format text >>"$BERTH_DATA_DIR/agent.log" 2>&1 </dev/null &
  echo $! >"$BERTH_DATA_DIR/agent.pid"
  for _ in $(seq 50); do [ -S "$BERTH_DATA_DIR/agent.sock" ] && break; sleep 0.2; done
  [ -S "$BERTH_DATA_DIR/agent.sock" ] || { tail -n 20 "$BERTH_DATA_DIR/agent.log"; echo "agent did not start"; exit 1; }
  echo "agent running (pid $(cat "$BERTH_DATA_DIR/agent.pid")), log $BERTH_DATA_DIR/agent.log"
fi
node dist/cli/main.js task apply -f examples/web-task.json
for _ in $(seq 60); do
  node dist/cli/main.js task ls | grep -q 'example-web-1.*RUNNING  RUNNING' && break
  sleep 0.5
done
node dist/cli/main.js task ls
echo
echo "try: curl -s http://127.0.0.1:18080/   |   node dist/cli/main.js state dump"
