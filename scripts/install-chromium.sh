#!/usr/bin/env bash
# Installs Debian's Chromium and ChromeDriver (packages chromium and chromium-driver) when either is
# missing, for ConsoleIT, the status page's browser test (docs/console.md). Browser downloads are not
# possible on these machines; Debian's packages are. Idempotent: does nothing when both are on the PATH.
# The services the packages pull in are not started (scripts/lib/apt-install.sh). Needs root (apt-get).
set -euo pipefail
. "$(dirname "$0")/lib/apt-install.sh"

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  echo "install-chromium: $(chromedriver --version 2>/dev/null | head -n1)"
  exit 0
fi

apt_install install-chromium chromium chromium-driver
chromedriver --version 2>/dev/null | head -n1
