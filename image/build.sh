#!/usr/bin/env bash
# Builds the event-processor container image without a container registry:
# the static binaries come from the local Go toolchain and the image is
# assembled FROM scratch (image/Dockerfile), so nothing is pulled.
#
#   bash image/build.sh                         builds event-processor:dev
#   IMAGE=REGISTRY/event-processor:0.1.0 bash image/build.sh
#   CA_BUNDLE=/path/ca.pem bash image/build.sh  another CA bundle than the machine's
#
# The binaries are built with -tags nodemo: `event-processor demo` and its
# embedded broker (kfake) are left out of the image. Run the demo from a
# clone with `go run ./cmd/event-processor demo`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
image=${IMAGE:-event-processor:dev}
go=${GO:-go}
# The machine's bundle; a machine that trusts a TLS-intercepting proxy has that
# proxy's CA in it too, so builders of a published image may want CA_BUNDLE.
ca_bundle=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
[[ -r $ca_bundle ]] || { echo "image: no CA bundle at $ca_bundle (apt-get install ca-certificates, or set CA_BUNDLE)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/etc/ssl/certs"

echo "image: building the binaries (linux/$("$go" env GOARCH), -tags nodemo)"
(cd "$root" && CGO_ENABLED=0 GOOS=linux "$go" build -trimpath -buildvcs=false -tags nodemo -ldflags='-s -w' \
  -o "$work/bin/" ./cmd/event-processor ./cmd/ktool)
"$work/bin/event-processor" --help >/dev/null

cp "$ca_bundle" "$work/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$work/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$work/etc/group"
chmod 0755 "$work/bin/"*
chmod 0644 "$work/etc/passwd" "$work/etc/group" "$work/etc/ssl/certs/ca-certificates.crt"
cp "$root/image/Dockerfile" "$work/Dockerfile"

version=$(sed -n 's/^appVersion:[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$/\1/p' "$root/helm/event-processor/Chart.yaml")
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
echo "image: assembling $image from scratch"
# The legacy builder works on every Docker this project meets (20.10 without
# buildx included); the Dockerfile needs nothing more.
DOCKER_BUILDKIT=0 docker build -q --build-arg VERSION="${version:-dev}" --build-arg REVISION="$revision" \
  -t "$image" "$work" >/dev/null 2>"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
echo "image: built $image ($(docker image inspect -f '{{.Size}}' "$image") bytes)"
