#!/usr/bin/env bash
# Brings up the test etcd cluster, idempotently: Debian's etcd-server and etcd-client, and three
# members on loopback only (clients 127.0.0.1:23791-23793, peers 23801-23803, data under
# $BERTH_ETCD_DIR/<member>). Prints `ready` once the cluster answers healthy on every member.
# The packaged etcd service is not used: policy-rc.d (or the lack of an init system) keeps apt from
# starting it, and were it running, it would hold 2379/2380, which the test members do not use.
# Members are started and stopped one at a time with scripts/etcd-member.sh.
# Also makes the TLS files of the TLS test (test/integration/fleet/etcd-tls.test.ts, which starts a
# one-member etcd of its own with them) in $BERTH_ETCD_TLS_DIR: a test CA, a server certificate for
# 127.0.0.1 (serverAuth and clientAuth: etcd's JSON gateway dials its own gRPC port with it), a
# client certificate, and a client certificate of another CA.
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

TLS_DIR=${BERTH_ETCD_TLS_DIR:-/var/lib/berth-test/etcd-tls}

# make_ca DIR: a CA in DIR (once). make_cert DIR NAME EXTENSIONS: NAME-cert.pem signed by it.
make_ca() {
  [ -f "$1/ca.pem" ] && return 0
  mkdir -p "$1"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=berth etcd test CA" -keyout "$1/ca-key.pem" -out "$1/ca.pem" 2>/dev/null || die "openssl CA in $1"
}
make_cert() {
  local dir=$1 name=$2 ext
  [ -f "$dir/$name-cert.pem" ] && return 0
  ext=$(mktemp)
  printf '%b' "$3" >"$ext"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=berth-etcd-$name" -keyout "$dir/$name-key.pem" -out "$dir/$name.csr" 2>/dev/null || die "openssl $name key"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial -days 3650 -extfile "$ext" -out "$dir/$name-cert.pem" 2>/dev/null || die "openssl $name certificate"
  rm -f "$ext" "$dir/$name.csr"
}
command -v openssl >/dev/null 2>&1 || apt_install openssl
make_ca "$TLS_DIR"
make_cert "$TLS_DIR" server 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n'
make_cert "$TLS_DIR" client 'extendedKeyUsage=clientAuth\n'
make_ca "$TLS_DIR/rogue"
make_cert "$TLS_DIR/rogue" client 'extendedKeyUsage=clientAuth\n'
chmod -R go-rwx "$TLS_DIR"

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
