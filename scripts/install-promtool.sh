#!/usr/bin/env bash
# Installs promtool (Debian package `prometheus`) when it is missing, for PrometheusRulesTest
# (`promtool check rules` and `promtool test rules` on deploy/prometheus). Idempotent: does nothing when
# promtool is on the PATH. Only the command is wanted: the package's service is not started (no
# systemd here; scripts/lib/apt-install.sh refuses it where there is one). Needs root (apt-get).
set -euo pipefail
. "$(dirname "$0")/lib/apt-install.sh"

if command -v promtool >/dev/null 2>&1; then
  echo "install-promtool: $(promtool --version 2>&1 | head -n1)"
  exit 0
fi

apt_install install-promtool --no-install-recommends prometheus
promtool --version 2>&1 | head -n1
