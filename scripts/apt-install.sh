# Sourced by the set-up scripts, which define `die`. Installs Debian packages quietly; the package
# lists are refreshed only when an install from the current lists fails (a fresh machine has none).
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "$@" >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null || die "apt-get update"
    apt-get install -y -qq "$@" >/dev/null || die "apt-get install $*"
  }
}
