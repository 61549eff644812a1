#!/usr/bin/env bash
# Builds and installs the pgvector extension for the local PostgreSQL 15 from Debian's own source
# package (pgvector is not packaged for Debian 12). Idempotent: does nothing when the extension is
# already available. The archive URI is taken from this machine's own apt sources, so no host name
# is written into the repository. Needs root (apt-get, make install).
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-15}"
PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config"
PG_HOST="${PGHOST:-127.0.0.1}"
PG_PORT="${PGPORT:-5432}"

ensure_postgres_up() {
  if ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
    echo "install-pgvector: PostgreSQL is down, starting cluster ${PG_MAJOR}/main"
    pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && break; sleep 1; done
  fi
}

ext_dir_has_vector() {
  [ -x "$PG_CONFIG" ] && [ -f "$("$PG_CONFIG" --sharedir)/extension/vector.control" ]
}

if ext_dir_has_vector || [ -f "/usr/share/postgresql/${PG_MAJOR}/extension/vector.control" ]; then
  echo "install-pgvector: pgvector already installed for PostgreSQL ${PG_MAJOR}"
  ensure_postgres_up
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "install-pgvector: pgvector is missing and installing it needs root" >&2
  exit 1
fi

# The Debian archive URI as this machine's apt sources name it (deb822 or one-line format).
uri=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  u=$(awk '/^URIs:/ {print $2}' "$f" | grep -v -- '-security' | grep '/debian$' | head -n1 || true)
  [ -n "$u" ] && { uri="$u"; break; }
done
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
  uri=$(awk '$1=="deb" && $3 !~ /security/ {print $2}' /etc/apt/sources.list | grep '/debian/\?$' | head -n1 || true)
fi
if [ -z "$uri" ]; then
  echo "install-pgvector: could not find the Debian archive URI in /etc/apt/sources*" >&2
  exit 1
fi

src_list=/etc/apt/sources.list.d/vectorsync-trixie-src.sources
if [ ! -f "$src_list" ]; then
  cat > "$src_list" <<SRC
Types: deb-src
URIs: ${uri}
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "postgresql-server-dev-${PG_MAJOR}" build-essential dpkg-dev >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source -qq pgvector >/dev/null 2>&1 || apt-get source pgvector
srcdir=$(find . -maxdepth 1 -type d -name 'pgvector-*' | head -n1)
cd "$srcdir"
make -s PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >/dev/null
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null
echo "install-pgvector: installed $(basename "$srcdir") for PostgreSQL ${PG_MAJOR}"

# The dev headers may have upgraded the server packages under the running cluster.
ensure_postgres_up
