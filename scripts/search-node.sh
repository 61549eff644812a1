#!/usr/bin/env bash
# Runs one single-node OpenSearch or Elasticsearch for the integration tests, in the foreground (exec: the
# caller's process becomes the node, so the caller stops it by its own pid).
#
#   scripts/search-node.sh opensearch|elasticsearch NODE_DIR HTTP_PORT TRANSPORT_PORT
#
# The distributions are the integ-test-zips (and the k-NN plugin) that the build copies from Maven Central
# into SEARCH_DIST (default target/search-dist; see pom.xml, execution search-distributions). They are
# unpacked once under SEARCH_DIST; NODE_DIR gets a fresh config, data, logs and tmp on every start. The
# servers refuse to run as root: as root, the node runs as the system user vectorsync-test (created here
# if missing). Bound to 127.0.0.1 only, security off, 512 MB heap, disk watermarks off.
#
# OpenSearch's integ-test-zip has no modules beyond transport: the k-NN plugin extends lang-painless, so
# that module is assembled from its jars on Maven Central (the distribution's module is not published).
set -euo pipefail

flavor=${1:?flavor: opensearch or elasticsearch}
node_dir=${2:?node directory}
http_port=${3:?http port}
transport_port=${4:?transport port}
here=$(cd "$(dirname "$0")/.." && pwd)
dist=${SEARCH_DIST:-$here/target/search-dist}
os_version=${OPENSEARCH_VERSION:-2.19.1}
knn_version=${OPENSEARCH_KNN_VERSION:-2.19.1.0}
es_version=${ELASTICSEARCH_VERSION:-8.19.7}
java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
user=vectorsync-test
umask 022

# Unpacks a zip into $2 atomically (a half-unpacked home is never left behind).
unpack() {
  local zip=$1 home=$2
  [ -d "$home" ] && return 0
  [ -f "$zip" ] || { echo "search-node.sh: $zip is missing: run the build's pre-integration-test phase" >&2; exit 2; }
  local tmp
  tmp=$(mktemp -d "$dist/.unpack.XXXXXX")
  unzip -q "$zip" -d "$tmp"
  mv "$tmp"/* "$home"
  rmdir "$tmp"
}

case "$flavor" in
  opensearch)
    home=$dist/opensearch-$os_version
    if [ ! -d "$home/plugins/opensearch-knn" ]; then
      rm -rf "$home"
      unpack "$dist/opensearch-$os_version.zip" "$home"
      painless=$home/modules/lang-painless
      mkdir -p "$painless"
      cp "$dist"/painless/*.jar "$painless"/
      cat > "$painless/plugin-descriptor.properties" <<EOF
description=An easy, safe and fast scripting language for OpenSearch
version=$os_version
name=lang-painless
classname=org.opensearch.painless.PainlessPlugin
java.version=11
opensearch.version=$os_version
extended.plugins=
has.native.controller=false
EOF
      cat > "$painless/plugin-security.policy" <<'EOF'
grant {
  permission java.lang.RuntimePermission "createClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";
};
EOF
      OPENSEARCH_JAVA_HOME=$java_home "$home/bin/opensearch-plugin" install --batch \
        "file://$dist/opensearch-knn-$knn_version.zip" >/dev/null 2>&1 \
        || { rm -rf "$home"; echo "search-node.sh: installing the k-NN plugin failed" >&2; exit 2; }
    fi
    ;;
  elasticsearch)
    home=$dist/elasticsearch-$es_version
    unpack "$dist/elasticsearch-$es_version.zip" "$home"
    ;;
  *) echo "search-node.sh: flavor must be opensearch or elasticsearch, not '$flavor'" >&2; exit 2 ;;
esac

as_user=()
if [ "$(id -u)" -eq 0 ]; then
  id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user" 2>/dev/null \
    || id -u "$user" >/dev/null
  as_user=(setpriv --reuid="$user" --regid="$user" --init-groups)
  mkdir -p "$(dirname "$node_dir")"
  if ! "${as_user[@]}" test -x "$home/bin" -a -x "$(dirname "$node_dir")"; then
    # The checkout is not reachable for that user (say, under /root): run from a copy in /tmp instead.
    alt=${TMPDIR:-/tmp}/vectorsync-search
    mkdir -p "$alt"
    chmod 755 "$alt"
    if [ ! -d "$alt/$(basename "$home")" ]; then
      tmp=$(mktemp -d "$alt/.copy.XXXXXX")
      cp -a "$home" "$tmp/"
      chmod 755 "$tmp"
      mv "$tmp/$(basename "$home")" "$alt/" 2>/dev/null || true
      rm -rf "$tmp"
    fi
    home=$alt/$(basename "$home")
    node_dir=$alt/nodes/$flavor-$http_port
    find "$alt/nodes" -mindepth 1 -maxdepth 1 -name "$flavor-*" -mmin +720 -exec rm -rf {} + 2>/dev/null || true
    echo "search-node.sh: the checkout is not readable by $user; running from $home, node in $node_dir"
  fi
fi

rm -rf "$node_dir"
mkdir -p "$node_dir"/data "$node_dir"/logs "$node_dir"/tmp
cp -r "$home/config" "$node_dir/config"
# GC logs go to the node's logs, not the (read-only) distribution's.
sed -i "s#file=logs/gc.log#file=$node_dir/logs/gc.log#; s#-Xloggc:logs/gc.log#-Xloggc:$node_dir/logs/gc.log#; s#ErrorFile=logs/#ErrorFile=$node_dir/logs/#" \
  "$node_dir/config/jvm.options"

settings=(
  -Enetwork.host=127.0.0.1
  -Ehttp.port="$http_port"
  -Etransport.port="$transport_port"
  -Ediscovery.type=single-node
  -Ecluster.name=vectorsync-test-$flavor
  -Epath.data="$node_dir/data"
  -Epath.logs="$node_dir/logs"
  -Ecluster.routing.allocation.disk.threshold_enabled=false
)
heap="-Xms512m -Xmx512m"
if [ "$flavor" = opensearch ]; then
  export OPENSEARCH_JAVA_HOME=$java_home OPENSEARCH_PATH_CONF=$node_dir/config OPENSEARCH_TMPDIR=$node_dir/tmp
  export OPENSEARCH_JAVA_OPTS=$heap
  command=("$home/bin/opensearch" "${settings[@]}")
else
  export ES_JAVA_HOME=$java_home ES_PATH_CONF=$node_dir/config ES_TMPDIR=$node_dir/tmp ES_JAVA_OPTS=$heap
  command=("$home/bin/elasticsearch" "${settings[@]}" -Expack.security.enabled=false)
fi
unset JAVA_HOME JAVA_TOOL_OPTIONS

cd "$node_dir"
if [ ${#as_user[@]} -gt 0 ]; then
  chown -R "$user:" "$node_dir"
fi
exec "${as_user[@]}" "${command[@]}"
