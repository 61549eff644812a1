#!/usr/bin/env bash
# Installs promtool (Debian package `prometheus`) when it is missing, for PrometheusRulesTest
# (`promtool check rules` and `promtool test rules` on deploy/prometheus). Idempotent: does nothing when
# promtool is on the PATH. Only the command is wanted: the package's service is not started (no
# systemd here; policy-rc.d refuses it where there is one). Needs root (apt-get).
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  echo "install-promtool: $(promtool --version 2>&1 | head -n1)"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "install-promtool: promtool is missing and installing it needs root (apt-get install prometheus)" >&2
  exit 1
fi

echo "install-promtool: installing the Debian package prometheus for promtool"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
made_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  made_policy=true
fi
cleanup() { if [ "$made_policy" = true ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

if ! apt-get install -y --no-install-recommends prometheus; then
  apt-get update
  apt-get install -y --no-install-recommends prometheus
fi
promtool --version 2>&1 | head -n1
