#!/usr/bin/env bash
# Installs Debian's Chromium and ChromeDriver (packages chromium and chromium-driver) when either is
# missing, for ConsoleIT, the status page's browser test (docs/console.md). Browser downloads are not
# possible on these machines; Debian's packages are. Idempotent: does nothing when both are on the PATH.
# The services the packages pull in are not started (policy-rc.d). Needs root (apt-get).
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  echo "install-chromium: $(chromedriver --version 2>/dev/null | head -n1)"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "install-chromium: chromium or chromedriver is missing and installing them needs root" \
    "(apt-get install chromium chromium-driver)" >&2
  exit 1
fi

echo "install-chromium: installing the Debian packages chromium and chromium-driver"
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

if ! apt-get install -y -q chromium chromium-driver; then
  apt-get update
  apt-get install -y -q chromium chromium-driver
fi
chromedriver --version 2>/dev/null | head -n1
