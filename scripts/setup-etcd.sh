#!/usr/bin/env bash
# Brings up the test etcd cluster, idempotently: Debian's etcd-server and etcd-client, and three
# members on loopback only (clients 127.0.0.1:23791-23793, peers 23801-23803, data under
# $BERTH_ETCD_DIR/<member>). Prints `ready` once the cluster answers healthy on every member.
# The packaged etcd service is not used: policy-rc.d (or the lack of an init system) keeps apt from
# starting it, and were it running, it would hold 2379/2380, which the test members do not use.
# Members are started and stopped one at a time with scripts/etcd-member.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

ENDPOINTS=http://127.0.0.1:23791,http://127.0.0.1:23792,http://127.0.0.1:23793

say() { printf '[setup-etcd] %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (installs packages)"
# shellcheck source=apt-install.sh
. scripts/apt-install.sh

missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt_install "${missing[@]}"
fi

healthy() { ETCDCTL_API=3 timeout 5 etcdctl --endpoints "$ENDPOINTS" endpoint health >/dev/null 2>&1; }

if healthy; then say "cluster already healthy"; echo ready; exit 0; fi
for n in 1 2 3; do bash scripts/etcd-member.sh start "$n"; done
for _ in $(seq 120); do
  if healthy; then echo ready; exit 0; fi
  sleep 0.5
done
ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINTS" endpoint health >&2 || true
tail -n 20 "${BERTH_ETCD_DIR:-/var/lib/berth-test/etcd}"/member*.log >&2 || true
die "the etcd cluster did not become healthy within 60 s"
