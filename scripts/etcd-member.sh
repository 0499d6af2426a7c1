#!/usr/bin/env bash
# Starts or stops one member of the test etcd cluster (scripts/setup-etcd.sh), so tests can take
# members away and bring them back:  etcd-member.sh start|stop|status N   (N = 1, 2 or 3).
# A member's data stays in place across stop/start: it rejoins with what it had.
set -euo pipefail

ETCD_DIR=${BERTH_ETCD_DIR:-/var/lib/berth-test/etcd}
CLUSTER=member1=http://127.0.0.1:23801,member2=http://127.0.0.1:23802,member3=http://127.0.0.1:23803

say() { printf '[etcd-member] %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

action=${1:-}; n=${2:-}
case "$n" in 1|2|3) ;; *) die "usage: $0 start|stop|status 1|2|3" ;; esac
name=member$n
client=http://127.0.0.1:2379$n
pidfile=$ETCD_DIR/$name.pid

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "$action" in
  start)
    if running; then say "$name already running (pid $(cat "$pidfile"))"; exit 0; fi
    mkdir -p "$ETCD_DIR/$name"
    # An existing data dir means the member was part of the cluster already: rejoin, not bootstrap.
    state=new
    [ -d "$ETCD_DIR/$name/member" ] && state=existing
    # setsid: the member outlives the shell (and the test) that started it.
    setsid etcd --name "$name" --data-dir "$ETCD_DIR/$name" \
      --listen-client-urls "$client" --advertise-client-urls "$client" \
      --listen-peer-urls "http://127.0.0.1:2380$n" --initial-advertise-peer-urls "http://127.0.0.1:2380$n" \
      --initial-cluster "$CLUSTER" --initial-cluster-state "$state" --initial-cluster-token berth-test \
      --heartbeat-interval 50 --election-timeout 500 --logger zap --log-level warn \
      >>"$ETCD_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    say "$name started (pid $!, client $client)"
    ;;
  stop)
    if ! running; then say "$name not running"; rm -f "$pidfile"; exit 0; fi
    pid=$(cat "$pidfile")
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    rm -f "$pidfile"
    say "$name stopped"
    ;;
  status)
    running && echo running || echo stopped
    ;;
  *) die "usage: $0 start|stop|status 1|2|3" ;;
esac
