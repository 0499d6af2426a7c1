#!/usr/bin/env bash
# Brings up everything the integration tests and the example agent need, idempotently:
#   1. Debian's docker.io, docker-registry, busybox-static and docker-compose (a benchmark baseline) packages
#   2. a running dockerd (reuses a healthy one, clears a stale pid file)
#   3. a registry on 127.0.0.1:5000 (reuses one that answers)
#   4. the test image 127.0.0.1:5000/berth/busybox:latest, built from busybox-static and pushed
#   5. variants 127.0.0.1:5000/berth/variant:0..10 of it, each with different content
#   6. the password-protected registry on 127.0.0.1:5001 holding it as berth/private:latest
#      (scripts/setup-auth-registry.sh)
#   7. the remote endpoints in front of it: TLS on 127.0.0.1:2376, sshd on 127.0.0.1:2222
#      (scripts/setup-remote-docker.sh)
#   8. the three-member etcd test cluster on 127.0.0.1:23791-23793 (scripts/setup-etcd.sh)
# Exits non-zero with a message naming the step that failed; it never leaves the caller guessing.
set -euo pipefail

STATE_DIR=${BERTH_DOCKER_STATE_DIR:-/var/lib/berth-test-infra}
REGISTRY_ADDR=127.0.0.1:5000
IMAGE=${BERTH_TEST_IMAGE:-$REGISTRY_ADDR/berth/busybox:latest}
DOCKER_SOCK=/var/run/docker.sock
DOCKER_PID=/var/run/docker.pid
# The Debian package's client; /usr/local/bin may hold a different one.
DOCKER=/usr/bin/docker

say() { printf '[setup-docker] %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || die "must run as root (installs packages and starts dockerd)"
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
  [ -x /bin/busybox ] && dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
  # The launch benchmark's third baseline (`docker-compose up -d`); the tests do not use it.
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update"
  apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]}"
}

docker_answers() { timeout 5 "$DOCKER" -H "unix://$DOCKER_SOCK" version >/dev/null 2>&1; }

wait_for() {
  local what=$1 tries=$2; shift 2
  for _ in $(seq "$tries"); do
    "$@" && return 0
    sleep 0.5
  done
  return 1
}

start_dockerd() {
  if docker_answers; then say "dockerd already running"; return 0; fi
  if [ -f "$DOCKER_PID" ]; then
    local pid; pid=$(cat "$DOCKER_PID" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      say "dockerd pid $pid exists but does not answer; waiting for it"
      wait_for dockerd 40 docker_answers && return 0
      die "dockerd (pid $pid) is running but not answering on $DOCKER_SOCK; see $STATE_DIR/dockerd.log"
    fi
    say "removing stale pid file $DOCKER_PID"
    rm -f "$DOCKER_PID"
  fi
  mkdir -p "$STATE_DIR"
  say "starting dockerd (log: $STATE_DIR/dockerd.log)"
  # setsid: dockerd must outlive the shell (and the CI step) that started it.
  setsid dockerd --host "unix://$DOCKER_SOCK" --pidfile "$DOCKER_PID" ${BERTH_DOCKERD_ARGS:-} \
    >>"$STATE_DIR/dockerd.log" 2>&1 </dev/null &
  wait_for dockerd 120 docker_answers || {
    tail -n 30 "$STATE_DIR/dockerd.log" >&2 || true
    die "dockerd did not answer within 60 s"
  }
  say "dockerd is up"
}

registry_answers() { curl -fsS -m 3 "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1; }

start_registry() {
  if registry_answers; then say "registry already serving on $REGISTRY_ADDR"; return 0; fi
  mkdir -p "$STATE_DIR/registry"
  cat >"$STATE_DIR/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE_DIR/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
EOF
  say "starting docker-registry on $REGISTRY_ADDR (log: $STATE_DIR/registry.log)"
  setsid docker-registry serve "$STATE_DIR/registry.yml" >>"$STATE_DIR/registry.log" 2>&1 </dev/null &
  wait_for registry 40 registry_answers || {
    tail -n 20 "$STATE_DIR/registry.log" >&2 || true
    die "registry did not answer on $REGISTRY_ADDR within 20 s"
  }
}

image_in_registry() {
  local ref=$1
  local repo=${ref#"$REGISTRY_ADDR"/}; repo=${repo%:*}
  local tag=${ref##*:}
  curl -fsS -m 3 -o /dev/null \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY_ADDR/v2/$repo/manifests/$tag" 2>/dev/null
}

# Bumped whenever the image's contents change, so a machine holding an older build rebuilds it.
IMAGE_RECIPE=2

local_recipe() { "$DOCKER" image inspect "$1" --format '{{index .Config.Labels "berth.test-image-recipe"}}' 2>/dev/null || true; }

# The image's file tree: busybox with one link per applet, so `sh`, `sleep`, `httpd`, `nc` work as plain commands.
make_root() {
  local root=$1
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/www"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  # root and nobody, as ECS task definitions expect (`user: nobody`).
  printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  echo 'berth test page' >"$root/www/index.html"
}

# import_and_push ROOT REF: one image from a file tree, pushed to the registry.
import_and_push() {
  local root=$1 ref=$2
  tar -C "$root" -c . | "$DOCKER" import \
    --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' --change "LABEL berth.test-image-recipe=$IMAGE_RECIPE" - "$ref" >/dev/null \
    || die "docker import $ref"
  "$DOCKER" push "$ref" >/dev/null || die "docker push $ref"
}

build_and_push_image() {
  if image_in_registry "$IMAGE" && [ "$(local_recipe "$IMAGE")" = "$IMAGE_RECIPE" ]; then say "image $IMAGE (recipe $IMAGE_RECIPE) already in the registry"; return 0; fi
  local root; root=$(mktemp -d)
  trap 'rm -rf "$root"' RETURN
  make_root "$root"
  say "importing busybox-static as $IMAGE"
  import_and_push "$root" "$IMAGE"
  image_in_registry "$IMAGE" || die "pushed $IMAGE but the registry does not list it"
  say "pushed $IMAGE"
}

# Images that differ in content (so in ID and digest), for tests that pull, count and remove
# images: the image-cleanup and disk-pressure tests, and the contract's disposable image. Each
# carries 1 MiB of its own, so removing one frees space Docker can measure.
VARIANTS=${BERTH_TEST_VARIANTS:-10}
VARIANT_REPO=$REGISTRY_ADDR/berth/variant

build_variants() {
  local missing=()
  for n in $(seq 0 "$VARIANTS"); do
    image_in_registry "$VARIANT_REPO:$n" || missing+=("$n")
  done
  [ ${#missing[@]} -eq 0 ] && { say "variants $VARIANT_REPO:0..$VARIANTS already in the registry"; return 0; }
  local root; root=$(mktemp -d)
  trap 'rm -rf "$root"' RETURN
  make_root "$root"
  for n in "${missing[@]}"; do
    head -c 1048576 /dev/zero | tr '\0' "$((n % 10))" >"$root/variant"
    echo "$n" >"$root/variant-id"
    import_and_push "$root" "$VARIANT_REPO:$n"
    # Only the registry's copy is wanted: tests pull it themselves.
    "$DOCKER" rmi "$VARIANT_REPO:$n" >/dev/null 2>&1 || true
  done
  say "pushed ${#missing[@]} variants of $VARIANT_REPO"
}

need_root
install_packages
command -v curl >/dev/null 2>&1 || { apt-get install -y -qq curl >/dev/null || die "apt-get install curl"; }
start_dockerd
start_registry
build_and_push_image
build_variants
bash "$(dirname "$0")/setup-auth-registry.sh" || die "the auth registry (scripts/setup-auth-registry.sh)"
bash "$(dirname "$0")/setup-remote-docker.sh" || die "the remote Docker endpoints (scripts/setup-remote-docker.sh)"
bash "$(dirname "$0")/setup-etcd.sh" >/dev/null || die "the etcd test cluster (scripts/setup-etcd.sh)"
say "ready: docker $("$DOCKER" version --format '{{.Server.Version}}'), registry $REGISTRY_ADDR, image $IMAGE"
