# Sourced by the install-*.sh scripts. apt_install LABEL ARG...: runs `apt-get install -y ARG...` as root
# without starting the services the packages pull in (a policy-rc.d that refuses them, removed afterwards
# when this made it), and updates the package lists once when the first try fails (a fresh machine's
# lists may be missing or stale).
apt_install() {
  local label=$1
  shift
  if [ "$(id -u)" != 0 ]; then
    echo "$label: installing needs root (apt-get install $*)" >&2
    return 1
  fi
  echo "$label: installing the Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  local policy=/usr/sbin/policy-rc.d
  APT_INSTALL_MADE_POLICY=false
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    APT_INSTALL_MADE_POLICY=true
  fi
  trap 'if [ "$APT_INSTALL_MADE_POLICY" = true ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
  if ! apt-get install -y -q "$@"; then
    apt-get update
    apt-get install -y -q "$@"
  fi
}
