#!/usr/bin/env bash
# Lints the Dockerfile with dockerfilelint (npm, pinned with its lock file in scripts/lint/), installed
# once into target/lint-tools. No Docker engine (and no hadolint binary) is available where the tests
# run; ComposeFileTest runs this script and fails on any finding.
#
#   scripts/lint-dockerfile.sh [DOCKERFILE]      exit 0 when clean, 1 with the findings printed
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(dirname "$here")"
home="${LINT_TOOLS_HOME:-$project/target/lint-tools}"
bin="$home/node_modules/.bin/dockerfilelint"
dockerfile="${1:-$project/Dockerfile}"

command -v npm >/dev/null || { echo "lint-dockerfile: npm is required (Node.js 20+)" >&2; exit 2; }
want="$(cat "$here/lint/package.json" "$here/lint/package-lock.json" "$0" | sha256sum | cut -d' ' -f1)"
mkdir -p "$home"
exec 9>"$home/.lock"
flock 9
if [ ! -x "$bin" ] || [ "$(cat "$home/.installed" 2>/dev/null)" != "$want" ]; then
  cp "$here/lint/package.json" "$here/lint/package-lock.json" "$home/"
  (cd "$home" && npm ci --no-audit --no-fund --loglevel=error >&2)
  # dockerfilelint 1.8.0 lists --start-period as a HEALTHCHECK option but finds the options and their
  # values with the regexes --\w+ and --\w+=..., which cut it to --start and report it invalid. Widen
  # those two (to --[\w-]+) and make sure both took; nothing else in the linter changes.
  checks="$home/node_modules/dockerfilelint/lib/checks.js"
  sed -i 's|match(/--\\w+|match(/--[\\w-]+|g' "$checks"
  [ "$(grep -c 'match(/--\[\\w-\]+' "$checks")" = 2 ] \
    || { echo "lint-dockerfile: could not fix dockerfilelint's HEALTHCHECK option regexes in $checks" >&2; exit 2; }
  echo "$want" > "$home/.installed"
fi
exec 9>&-
"$bin" "$dockerfile"
