#!/usr/bin/env bash
# Builds the Apache Kafka image the integration tests run, without a container
# registry: a Debian base made with debootstrap and `docker import`, plus the
# broker jars of the Kafka release in ./VERSION fetched from Maven Central.
#
#   integration/kafka-image/build.sh            builds event-processor/kafka:<VERSION>
#   KAFKA_IMAGE=name:tag integration/kafka-image/build.sh
#
# Idempotent: an image that is already present is left alone; an image name
# that can be pulled (e.g. apache/kafka:<VERSION> where a registry is
# reachable) is pulled instead of built.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version=$(tr -d '[:space:]' < "$here/VERSION")
image=${KAFKA_IMAGE:-event-processor/kafka:$version}
base=event-processor/debian-jre17:bookworm

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "kafka-image: $image is present"
  exit 0
fi
if [[ $image != event-processor/* ]] && timeout 120 docker pull "$image" >/dev/null 2>&1; then
  echo "kafka-image: pulled $image"
  exit 0
fi

# debian_mirror prints the first Debian archive URI of the apt sources
# (deb822 .sources files first, then sources.list), or nothing.
debian_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    for uri in $(sed -n 's/^URIs:[[:space:]]*//p' "$f"); do
      [[ $uri =~ /debian/?$ ]] && { echo "${uri%/}"; return; }
    done
  done
  [[ -r /etc/apt/sources.list ]] || return 0
  awk '$1=="deb" { line = $0; sub(/\[[^]]*\]/, "", line); split(line, f); u = f[2]; if (u ~ /\/debian\/?$/) { sub(/\/$/, "", u); print u; exit } }' /etc/apt/sources.list
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! docker image inspect "$base" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { echo "kafka-image: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
  # The Debian mirror this machine's apt already uses; there is no default,
  # so that the build never reaches a host the machine is not configured for.
  mirror=$(debian_mirror)
  [[ -n $mirror ]] || {
    echo "kafka-image: no Debian mirror in this machine's apt sources (a URIs: line of /etc/apt/sources.list.d/*.sources" >&2
    echo "kafka-image: or a deb line of /etc/apt/sources.list ending in /debian); add one, or build $base yourself" >&2
    exit 1
  }
  echo "kafka-image: building $base with debootstrap from $mirror"
  debootstrap --variant=minbase --include=openjdk-17-jre-headless bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
  tar -C "$work/rootfs" -c . | docker import - "$base" >/dev/null
  rm -rf "$work/rootfs"
fi

echo "kafka-image: fetching Apache Kafka $version from Maven Central"
mvn -B -q -f "$here/pom.xml" -Dkafka.version="$version" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$work/libs"
cp "$here/Dockerfile" "$here/entrypoint.sh" "$here/log4j2.properties" "$work/"

echo "kafka-image: building $image"
DOCKER_BUILDKIT=0 docker build -q --build-arg BASE="$base" -t "$image" "$work" >/dev/null
echo "kafka-image: built $image"
