#!/usr/bin/env bash
# Builds, once, every binary the single-node test cluster (k8s/cluster.sh)
# runs, into a cache directory shared by later runs:
#
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kubectl
#     from k8s.io/kubernetes (k8s/build/go.mod pins it and its staging modules),
#     CGO_ENABLED=0 -trimpath -ldflags '-s -w', version stamped;
#   etcd        out of Debian's etcd-server package (extracted, no service);
#   loopback    the CNI plugin, out of Debian's containernetworking-plugins;
#   pause       the pod sandbox's process (k8s/pause), a static Go program.
#
# containerd and runc come with Debian's docker.io (installed by .ci/run).
# Skips whatever is already built; prints the directory at the end.
#
#   bash k8s/build.sh            # K8S_CACHE=dir to build elsewhere
set -euo pipefail
cd "$(dirname "$0")"

k8s_version=v1.34.4
etcd_deb=3.4.23-4+b4
cni_deb=1.1.1+ds1-3+b5
cache=${K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/event-processor/k8s-$k8s_version}
bin=$cache/bin
mkdir -p "$bin"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"

say() { echo "k8s/build: $*"; }

# Kubernetes. The stamp is written only after all five are built, so an
# interrupted build is redone; it names go.sum's hash, so a changed pin is
# rebuilt too.
components=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
stamp="k8s $k8s_version $(sha256sum build/go.sum | cut -c1-16)"
if [ "$(cat "$bin/.kubernetes" 2>/dev/null)" != "$stamp" ]; then
  command -v go >/dev/null || { say "needs Go (go 1.24 or newer) on PATH"; exit 1; }
  say "building ${components[*]} $k8s_version (about 15 min on 2 cores with a cold Go build cache, under a minute with a warm one)"
  start=$(date +%s)
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=34 -X $pkg.gitTreeState=clean"
  done
  pkgs=()
  for c in "${components[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  (cd build && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "$ldflags" -o "$bin/" "${pkgs[@]}")
  echo "$stamp" >"$bin/.kubernetes"
  say "built in $(($(date +%s) - start)) s"
fi

# A Debian package's file, extracted without installing the package. The
# pinned version, else the archive's current one, said so (the archive
# replaces a version by its point release).
from_deb() { # package version path-in-package destination
  local pkg=$1 version=$2 path=$3 dest=$4 tmp
  tmp=$(mktemp -d)
  chmod 0777 "$tmp" # apt-get download runs as _apt where it can
  (cd "$tmp" && { apt-get download -qq "$pkg=$version" 2>/dev/null \
    || { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && apt-get download -qq "$pkg=$version" 2>/dev/null; } \
    || { say "$pkg $version is gone from Debian's archive; taking its current version (update the pinned version in k8s/build.sh)"; apt-get download -qq "$pkg"; }; }) \
    || { say "Debian's archive has no $pkg package (apt-cache policy $pkg)"; rm -rf "$tmp"; exit 1; }
  dpkg -x "$tmp"/"${pkg}"_*.deb "$tmp/x"
  cp "$tmp/x/$path" "$dest.tmp" && mv "$dest.tmp" "$dest"
  rm -rf "$tmp"
}
if [ ! -x "$bin/etcd" ]; then
  say "extracting etcd from Debian's etcd-server $etcd_deb"
  from_deb etcd-server "$etcd_deb" usr/bin/etcd "$bin/etcd"
fi
if [ ! -x "$bin/cni/loopback" ]; then
  say "extracting the loopback CNI plugin from Debian's containernetworking-plugins $cni_deb"
  mkdir -p "$bin/cni"
  from_deb containernetworking-plugins "$cni_deb" usr/lib/cni/loopback "$bin/cni/loopback"
fi

# The sandbox process: rebuilt when its source changes (a second of work).
pause_sum=$(sha256sum pause/main.go | cut -c1-16)
if [ "$(cat "$bin/.pause" 2>/dev/null)" != "$pause_sum" ]; then
  (cd pause && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$bin/pause" .)
  echo "$pause_sum" >"$bin/.pause"
fi

for tool in containerd containerd-shim-runc-v2 runc ctr; do
  command -v "$tool" >/dev/null || { say "$tool is missing: install Debian's docker.io (apt-get install docker.io), which brings containerd and runc"; exit 1; }
done
echo "$bin"
