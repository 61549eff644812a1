#!/usr/bin/env bash
# The Chroma server of the Chroma backend's integration tests, from the npm `chromadb` CLI.
#
#   scripts/chroma-server.sh install            installs it (idempotent) and prints the install folder
#   scripts/chroma-server.sh run PORT DATA_DIR  installs it if needed, then runs it on 127.0.0.1:PORT
#
# Versions are pinned by scripts/chroma/package.json and its package-lock.json: chromadb 3.5.0 with the
# native bindings chromadb-js-bindings-linux-x64-gnu 1.0.5 (newer bindings need a newer glibc than
# Debian 12's 2.36). chromadb 3.5.0 asks for bindings ^1.3.4, so the package.json `overrides` them;
# without it npm nests a 1.3.x copy under chromadb/ and the CLI loads that one. `run` replaces this
# shell with the server (exec), so the caller's pid is the server's pid.
#
# CHROMA_SERVER_HOME overrides the install folder (default: target/chroma-server of this project).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(dirname "$here")"
home="${CHROMA_SERVER_HOME:-$project/target/chroma-server}"
cli="$home/node_modules/chromadb/dist/cli.mjs"

install() {
  local stamp="$home/.installed" want
  want="$(cat "$here/chroma/package.json" "$here/chroma/package-lock.json" | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$cli" ]; then
    return 0
  fi
  command -v npm >/dev/null || { echo "chroma-server: npm is required (Node.js 20+)" >&2; exit 1; }
  mkdir -p "$home"
  cp "$here/chroma/package.json" "$here/chroma/package-lock.json" "$home/"
  # Serialise concurrent installs (two test JVMs) on the folder.
  exec 9>"$home/.lock"
  flock 9
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -f "$cli" ]; then
    (cd "$home" && npm ci --no-audit --no-fund --loglevel=error >&2)
    local bindings
    bindings="$(node -p "require('$home/node_modules/chromadb-js-bindings-linux-x64-gnu/package.json').version")"
    if [ "$bindings" != "1.0.5" ] || [ -d "$home/node_modules/chromadb/node_modules/chromadb-js-bindings-linux-x64-gnu" ]; then
      echo "chroma-server: expected only chromadb-js-bindings-linux-x64-gnu 1.0.5, found $bindings (or a nested copy)" >&2
      exit 1
    fi
    echo "$want" >"$stamp"
  fi
  exec 9>&-
}

case "${1:-}" in
  install)
    install
    echo "$home"
    ;;
  run)
    [ $# -eq 3 ] || { echo "usage: $0 run PORT DATA_DIR" >&2; exit 2; }
    install
    mkdir -p "$3"
    # Loopback only. (`chroma update` would ask the npm registry for a newer version; `run` does not.)
    exec node "$cli" run --host 127.0.0.1 --port "$2" --path "$3"
    ;;
  *)
    echo "usage: $0 install | run PORT DATA_DIR" >&2
    exit 2
    ;;
esac
