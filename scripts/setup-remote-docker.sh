#!/usr/bin/env bash
# The remote Docker endpoints the remote-engine tests drive, both in front of the local daemon and
# on loopback only, idempotently:
#   1. a test CA, a server certificate (127.0.0.1) and a client certificate (openssl) in $TLS_DIR,
#      plus a client certificate from another CA, which must be refused
#   2. a TLS-only endpoint on 127.0.0.1:$TLS_PORT that requires a client certificate of the test CA
#      (scripts/tls-docker-proxy.mjs; dockerd itself is never restarted)
#   3. openssh-server, if missing, and an sshd of its own on 127.0.0.1:$SSH_PORT: its own config,
#      host key and authorized_keys in $SSH_DIR, key login for root only, so
#      ssh://root@127.0.0.1:$SSH_PORT runs `docker system dial-stdio` against the local daemon
# Exits non-zero with a message naming the step that failed.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${BERTH_REMOTE_DOCKER_DIR:-/var/lib/berth-test}
TLS_DIR=$BASE/tls
SSH_DIR=$BASE/ssh
TLS_PORT=${BERTH_TLS_DOCKER_PORT:-2376}
SSH_PORT=${BERTH_SSH_DOCKER_PORT:-2222}

say() { printf '[setup-remote-docker] %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
# shellcheck source=apt-install.sh
. scripts/apt-install.sh

# A CA in $1 (once), then a certificate $2 signed by it for $3 (serverAuth or clientAuth).
make_ca() {
  [ -f "$1/ca.pem" ] && return 0
  mkdir -p "$1"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=berth test CA" -keyout "$1/ca-key.pem" -out "$1/ca.pem" 2>/dev/null || die "openssl CA in $1"
}
make_cert() {
  local dir=$1 name=$2 usage=$3 ext
  [ -f "$dir/$name-cert.pem" ] && return 0
  ext=$(mktemp)
  if [ "$usage" = serverAuth ]; then printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$ext"; else printf 'extendedKeyUsage=clientAuth\n' >"$ext"; fi
  openssl req -newkey rsa:2048 -nodes -subj "/CN=berth-$name" -keyout "$dir/$name-key.pem" -out "$dir/$name.csr" 2>/dev/null || die "openssl $name key"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial -days 3650 -extfile "$ext" -out "$dir/$name-cert.pem" 2>/dev/null || die "openssl $name certificate"
  rm -f "$ext" "$dir/$name.csr"
}

make_certificates() {
  make_ca "$TLS_DIR"
  make_cert "$TLS_DIR" server serverAuth
  make_cert "$TLS_DIR" client clientAuth
  # The client's DOCKER_CERT_PATH: the Docker CLI's file names.
  mkdir -p "$TLS_DIR/client"
  cp "$TLS_DIR/ca.pem" "$TLS_DIR/client/ca.pem"
  cp "$TLS_DIR/client-cert.pem" "$TLS_DIR/client/cert.pem"
  cp "$TLS_DIR/client-key.pem" "$TLS_DIR/client/key.pem"
  # A client certificate of another CA, trusting the real server CA: refused by the endpoint.
  make_ca "$TLS_DIR/rogue"
  make_cert "$TLS_DIR/rogue" client clientAuth
  mkdir -p "$TLS_DIR/rogue-client"
  cp "$TLS_DIR/ca.pem" "$TLS_DIR/rogue-client/ca.pem"
  cp "$TLS_DIR/rogue/client-cert.pem" "$TLS_DIR/rogue-client/cert.pem"
  cp "$TLS_DIR/rogue/client-key.pem" "$TLS_DIR/rogue-client/key.pem"
  chmod -R go-rwx "$TLS_DIR"
}

tls_answers() {
  curl -sS -m 3 -o /dev/null -w '%{http_code}' --cacert "$TLS_DIR/client/ca.pem" --cert "$TLS_DIR/client/cert.pem" --key "$TLS_DIR/client/key.pem" "https://127.0.0.1:$TLS_PORT/_ping" 2>/dev/null | grep -q 200
}

start_tls_endpoint() {
  if tls_answers; then say "TLS endpoint already serving on 127.0.0.1:$TLS_PORT"; return 0; fi
  # A stale proxy of ours (certificates remade) is replaced; its pid is our own file's.
  if [ -f "$BASE/tls-proxy.pid" ]; then kill "$(cat "$BASE/tls-proxy.pid")" 2>/dev/null || true; fi
  setsid nohup node scripts/tls-docker-proxy.mjs "$TLS_DIR" "$TLS_PORT" >"$BASE/tls-proxy.log" 2>&1 </dev/null &
  echo $! >"$BASE/tls-proxy.pid"
  for _ in $(seq 40); do tls_answers && { say "TLS endpoint serving on 127.0.0.1:$TLS_PORT"; return 0; }; sleep 0.25; done
  die "the TLS endpoint on 127.0.0.1:$TLS_PORT did not answer (see $BASE/tls-proxy.log)"
}

install_sshd() {
  [ -x /usr/sbin/sshd ] && return 0
  say "installing openssh-server"
  apt_install openssh-server
}

ssh_answers() {
  ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=3 \
    -i "$SSH_DIR/client_ed25519" -p "$SSH_PORT" root@127.0.0.1 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

start_sshd() {
  mkdir -p "$SSH_DIR" /run/sshd
  chmod 700 "$SSH_DIR"
  [ -f "$SSH_DIR/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/host_ed25519" || die "ssh-keygen host key"
  [ -f "$SSH_DIR/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C berth-test-client -f "$SSH_DIR/client_ed25519" || die "ssh-keygen client key"
  # A key that is not authorized: the refused-key test logs in with it.
  [ -f "$SSH_DIR/refused_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C berth-test-refused -f "$SSH_DIR/refused_ed25519" || die "ssh-keygen refused key"
  cp "$SSH_DIR/client_ed25519.pub" "$SSH_DIR/authorized_keys"
  chmod 600 "$SSH_DIR/authorized_keys"
  cat >"$SSH_DIR/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $SSH_DIR/host_ed25519
AuthorizedKeysFile $SSH_DIR/authorized_keys
PidFile $SSH_DIR/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowUsers root
UsePAM no
StrictModes no
MaxStartups 100:30:200
MaxSessions 100
CONF
  if ssh_answers; then say "sshd already serving on 127.0.0.1:$SSH_PORT"; return 0; fi
  if [ -f "$SSH_DIR/sshd.pid" ]; then kill "$(cat "$SSH_DIR/sshd.pid")" 2>/dev/null || true; fi
  /usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$SSH_DIR/sshd.log" || die "sshd -f $SSH_DIR/sshd_config (see $SSH_DIR/sshd.log)"
  for _ in $(seq 40); do ssh_answers && { say "sshd serving on 127.0.0.1:$SSH_PORT"; return 0; }; sleep 0.25; done
  die "ssh://root@127.0.0.1:$SSH_PORT does not run docker (see $SSH_DIR/sshd.log)"
}

mkdir -p "$BASE"
make_certificates
start_tls_endpoint
install_sshd
start_sshd
