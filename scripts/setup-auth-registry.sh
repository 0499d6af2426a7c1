#!/usr/bin/env bash
# The password-protected registry the private-registry tests pull from, idempotently:
#   1. apache2-utils (htpasswd), if missing
#   2. an htpasswd file (bcrypt) with the test user from scripts/auth-registry.env
#   3. docker-registry on $BERTH_AUTH_REGISTRY with htpasswd auth (reuses one that answers 401)
#   4. the test image pushed there as $BERTH_AUTH_IMAGE, logged in with a throw-away DOCKER_CONFIG
#      so no credentials are left in root's ~/.docker
# Needs dockerd and the test image 127.0.0.1:5000/berth/busybox:latest (scripts/setup-docker.sh,
# which calls this script last). Exits non-zero with a message naming the step that failed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=auth-registry.env
. scripts/auth-registry.env

STATE_DIR=${BERTH_DOCKER_STATE_DIR:-/var/lib/berth-test-infra}
SOURCE_IMAGE=${BERTH_TEST_IMAGE:-127.0.0.1:5000/berth/busybox:latest}
DOCKER=/usr/bin/docker
HTPASSWD_FILE=$STATE_DIR/auth-registry.htpasswd

say() { printf '[setup-auth-registry] %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
# shellcheck source=apt-install.sh
. scripts/apt-install.sh

status_of() { curl -sS -m 3 -o /dev/null -w '%{http_code}' "$@" 2>/dev/null || true; }
anonymous_status() { status_of "http://$BERTH_AUTH_REGISTRY/v2/"; }
login_status() { status_of -u "$BERTH_AUTH_USER:$BERTH_AUTH_PASSWORD" "http://$BERTH_AUTH_REGISTRY/v2/"; }

wait_for_401() {
  for _ in $(seq 40); do
    [ "$(anonymous_status)" = 401 ] && return 0
    sleep 0.5
  done
  return 1
}

install_htpasswd() {
  command -v htpasswd >/dev/null 2>&1 && return 0
  say "installing apache2-utils (htpasswd)"
  apt_install apache2-utils
}

write_htpasswd() {
  # Rewritten only when it no longer holds the test user's password, so a running registry
  # (which reads the file once, at start) keeps matching it.
  if [ -f "$HTPASSWD_FILE" ] && htpasswd -vb "$HTPASSWD_FILE" "$BERTH_AUTH_USER" "$BERTH_AUTH_PASSWORD" >/dev/null 2>&1; then return 0; fi
  mkdir -p "$STATE_DIR"
  htpasswd -Bbn "$BERTH_AUTH_USER" "$BERTH_AUTH_PASSWORD" >"$HTPASSWD_FILE" || die "htpasswd"
  chmod 600 "$HTPASSWD_FILE"
}

start_registry() {
  case "$(anonymous_status)" in
    401)
      [ "$(login_status)" = 200 ] || die "a registry on $BERTH_AUTH_REGISTRY refuses the test user (started with another htpasswd file?); stop it and run this again"
      say "auth registry already serving on $BERTH_AUTH_REGISTRY"
      return 0
      ;;
    000) ;;
    *) die "something on $BERTH_AUTH_REGISTRY answers /v2/ without asking for credentials; it is not the auth registry" ;;
  esac
  mkdir -p "$STATE_DIR/auth-registry"
  cat >"$STATE_DIR/auth-registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE_DIR/auth-registry
  delete:
    enabled: true
http:
  addr: $BERTH_AUTH_REGISTRY
auth:
  htpasswd:
    realm: berth-test
    path: $HTPASSWD_FILE
YML
  say "starting docker-registry with htpasswd auth on $BERTH_AUTH_REGISTRY (log: $STATE_DIR/auth-registry.log)"
  # setsid: the registry must outlive the shell (and the CI step) that started it.
  setsid docker-registry serve "$STATE_DIR/auth-registry.yml" >>"$STATE_DIR/auth-registry.log" 2>&1 </dev/null &
  wait_for_401 || {
    tail -n 20 "$STATE_DIR/auth-registry.log" >&2 || true
    die "auth registry did not answer on $BERTH_AUTH_REGISTRY within 20 s"
  }
  [ "$(login_status)" = 200 ] || die "auth registry on $BERTH_AUTH_REGISTRY refuses the test user"
}

image_in_registry() {
  local repo=${BERTH_AUTH_IMAGE#"$BERTH_AUTH_REGISTRY"/}; repo=${repo%:*}
  local tag=${BERTH_AUTH_IMAGE##*:}
  [ "$(status_of -u "$BERTH_AUTH_USER:$BERTH_AUTH_PASSWORD" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$BERTH_AUTH_REGISTRY/v2/$repo/manifests/$tag")" = 200 ]
}

push_image() {
  if image_in_registry; then say "image $BERTH_AUTH_IMAGE already in the auth registry"; return 0; fi
  "$DOCKER" image inspect "$SOURCE_IMAGE" >/dev/null 2>&1 || die "the source image $SOURCE_IMAGE is not present locally (run scripts/setup-docker.sh)"
  local config; config=$(mktemp -d)
  trap 'rm -rf "$config"' RETURN
  "$DOCKER" tag "$SOURCE_IMAGE" "$BERTH_AUTH_IMAGE" || die "docker tag"
  printf '%s' "$BERTH_AUTH_PASSWORD" | DOCKER_CONFIG=$config "$DOCKER" login --username "$BERTH_AUTH_USER" --password-stdin "$BERTH_AUTH_REGISTRY" >/dev/null 2>&1 \
    || die "docker login $BERTH_AUTH_REGISTRY"
  DOCKER_CONFIG=$config "$DOCKER" push "$BERTH_AUTH_IMAGE" >/dev/null || die "docker push $BERTH_AUTH_IMAGE"
  # The local copy goes: the tests pull it through the agent, with and without credentials.
  "$DOCKER" rmi "$BERTH_AUTH_IMAGE" >/dev/null || die "docker rmi $BERTH_AUTH_IMAGE"
  image_in_registry || die "pushed $BERTH_AUTH_IMAGE but the registry does not list it"
  say "pushed $BERTH_AUTH_IMAGE"
}

[ "$(id -u)" = 0 ] || die "must run as root (installs packages and starts a registry)"
install_htpasswd
write_htpasswd
start_registry
push_image
say "ready: auth registry $BERTH_AUTH_REGISTRY (user $BERTH_AUTH_USER), image $BERTH_AUTH_IMAGE"
