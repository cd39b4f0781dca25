#!/usr/bin/env bash
# A single-node Kubernetes on 127.0.0.1 that needs no container registry,
# for testing the Helm chart as users install it (docs/kubernetes.md).
#
#   bash k8s/cluster.sh up                 start it; prints the kubeconfig
#   bash k8s/cluster.sh import IMAGE...    copy images from Docker into the node
#   bash k8s/cluster.sh down               stop everything, remove the state
#   bash k8s/cluster.sh status             what runs
#
# Settings (environment):
#   K8S_WORK       its directory (default ${TMPDIR:-/tmp}/event-processor-k8s); all
#                  state, certificates, logs (K8S_WORK/logs) and the kubeconfig
#                  (K8S_WORK/admin.kubeconfig) live there
#   K8S_PORT_BASE  first of the 8 consecutive ports on 127.0.0.1 it listens on
#                  (default 16400): etcd client and peer, kube-apiserver,
#                  controller-manager, scheduler, kubelet, kubelet healthz,
#                  containerd's stream server
#   K8S_BIN        where k8s/build.sh put the binaries (default: its cache)
#
# What runs: etcd, kube-apiserver, kube-controller-manager and kube-scheduler
# on 127.0.0.1; a containerd of its own (own config, socket, root and state;
# Docker's is not touched) and the kubelet, registered as node 127.0.0.1,
# inside a private mount namespace in which the kernel settings the kubelet
# would rewrite are bind-mounted over with the values it expects, so the
# host's stay as they are and every pod mount vanishes with the namespace.
# There is no kube-proxy, DNS or pod network: pods use hostNetwork, and the
# sandbox image is built locally FROM scratch (k8s/pause). Needs root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=${K8S_WORK:-${TMPDIR:-/tmp}/event-processor-k8s}
bin=${K8S_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/event-processor/k8s-v1.34.4/bin}
pause_image=docker.io/event-processor/pause:local
node=127.0.0.1

say() { echo "k8s/cluster: $*" >&2; }
die() { say "$*"; exit 1; }

need_root() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (it starts containerd and the kubelet, which mount and create cgroups); try sudo"
}

need_binaries() {
  local b
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl pause cni/loopback; do
    [ -x "$bin/$b" ] || die "$bin/$b is missing: run 'bash k8s/build.sh' first (or set K8S_BIN)"
  done
  for b in containerd containerd-shim-runc-v2 runc ctr openssl unshare docker; do
    command -v "$b" >/dev/null || die "$b is missing: apt-get install docker.io openssl util-linux (docker.io brings containerd and runc)"
  done
}

ports() {
  local base=${K8S_PORT_BASE:-16400}
  [[ $base =~ ^[0-9]+$ ]] && [ "$base" -ge 1024 ] && [ "$base" -le 65528 ] \
    || die "K8S_PORT_BASE=$base: want the first of 8 consecutive unprivileged ports, 1024 to 65528"
  etcd_port=$base etcd_peer_port=$((base + 1)) api_port=$((base + 2)) cm_port=$((base + 3))
  sched_port=$((base + 4)) kubelet_port=$((base + 5)) kubelet_healthz_port=$((base + 6)) stream_port=$((base + 7))
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# etcd_healthy PORT: etcd's /health says true (bash alone, no curl needed).
etcd_healthy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET /health HTTP/1.0\r\n\r\n' >&3 && grep -q '"health":"true"' <&3) 2>/dev/null
}

alive() { [ -f "$work/pids/$1" ] && kill -0 "$(cat "$work/pids/$1")" 2>/dev/null; }

# One node per host: two kubelets would share /var/lib/kubelet/device-plugins
# and the pod cgroups, and each would remove the other's pods' cgroups.
node_lock=/run/event-processor-k8s.node

# wait_for WHAT SECONDS LOG COMMAND...: runs COMMAND until it succeeds, or
# fails with the log's tail after SECONDS.
wait_for() {
  local what=$1 secs=$2 log=$3
  shift 3
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      say "$what not ready within ${secs}s; the end of $log:"
      tail -n 30 "$log" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
}

# start NAME COMMAND...: runs COMMAND in the background, logging to
# logs/NAME.log, its pid in pids/NAME.
start() {
  local name=$1
  shift
  setsid "$@" >"$work/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$work/pids/$name"
}

kubeconfig() { # file user
  cat >"$work/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $work/pki/ca.crt
users:
- name: $2
  user:
    client-certificate: $work/pki/$2.crt
    client-key: $work/pki/$2.key
contexts:
- name: local
  context: {cluster: local, user: $2}
current-context: local
EOF
}

# cert NAME SUBJECT EXTENSIONS: a key and a certificate signed by the CA.
cert() {
  local pki=$work/pki
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/$1.key" 2>/dev/null
  openssl req -new -key "$pki/$1.key" -subj "$2" -out "$pki/$1.csr" 2>/dev/null
  printf '%s\n' "$3" >"$pki/$1.ext"
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>/dev/null
  rm -f "$pki/$1.csr" "$pki/$1.ext"
}

certificates() {
  local pki=$work/pki client=$'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth'
  mkdir -p "$pki"
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=event-processor-test-ca" -days 30 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$pki/ca.crt" 2>/dev/null
  cert apiserver "/CN=kube-apiserver" $'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:127.100.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc'
  cert kubelet-server "/CN=$node" $'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost'
  cert admin "/O=system:masters/CN=admin" "$client"
  cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client"
  cert controller-manager "/CN=system:kube-controller-manager" "$client"
  cert scheduler "/CN=system:kube-scheduler" "$client"
  cert kubelet "/O=system:nodes/CN=system:node:$node" "$client"
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/sa.key" 2>/dev/null
  openssl ec -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  chmod 0600 "$pki"/*.key
  kubeconfig admin admin
  kubeconfig controller-manager controller-manager
  kubeconfig scheduler scheduler
  kubeconfig kubelet kubelet
}

node_config() {
  mkdir -p "$work/containerd" "$work/cni/net.d" "$work/kubelet" "$work/pod-logs" "$work/sysctl"
  cat >"$work/containerd/config.toml" <<EOF
version = 2
root = "$work/containerd/root"
state = "$work/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$work/containerd/containerd.sock"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$work/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  stream_server_address = "127.0.0.1"
  stream_server_port = "$stream_port"
  # This machine's root may lack CAP_SYS_RESOURCE: without it every sandbox
  # fails ("can't get final child's PID from pipe").
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$work/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$bin/cni"
    conf_dir = "$work/cni/net.d"
EOF
  # Only loopback: every pod uses the host's network, but the kubelet calls
  # the node Ready only when a CNI configuration exists.
  cat >"$work/cni/net.d/10-loopback.conflist" <<'EOF'
{"cniVersion": "1.0.0", "name": "loopback", "plugins": [{"type": "loopback"}]}
EOF
  cat >"$work/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $kubelet_port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $kubelet_healthz_port
containerRuntimeEndpoint: unix://$work/containerd/containerd.sock
tlsCertFile: $work/pki/kubelet-server.crt
tlsPrivateKeyFile: $work/pki/kubelet-server.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $work/pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
podLogsDir: $work/pod-logs
# A test node: evict only when nearly out, never collect the imported images
# (they cannot be pulled again).
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
  # The values the kubelet sets (pkg/kubelet/cm: setupKernelTunables), bind-
  # mounted over /proc/sys inside the node's mount namespace, so it reads
  # them as already set and writes nothing to the host's.
  printf '1\n' >"$work/sysctl/vm.overcommit_memory"
  printf '0\n' >"$work/sysctl/vm.panic_on_oom"
  printf '10\n' >"$work/sysctl/kernel.panic"
  printf '1\n' >"$work/sysctl/kernel.panic_on_oops"
  printf '1000000\n' >"$work/sysctl/kernel.keys.root_maxkeys"
  printf '25000000\n' >"$work/sysctl/kernel.keys.root_maxbytes"
  cat >"$work/node.sh" <<EOF
#!/usr/bin/env bash
# Runs inside the node's private mount namespace (unshare -m): containerd and
# the kubelet; written by k8s/cluster.sh.
set -euo pipefail
for f in $work/sysctl/*; do
  name=\$(basename "\$f")
  target=/proc/sys/\${name//.//}
  [ -e "\$target" ] && mount --bind "\$f" "\$target"
done
containerd --config $work/containerd/config.toml >$work/logs/containerd.log 2>&1 &
echo \$! >$work/pids/containerd
for _ in \$(seq 1 60); do [ -S $work/containerd/containerd.sock ] && break; sleep 0.5; done
kubelet --config=$work/kubelet-config.yaml --kubeconfig=$work/kubelet.kubeconfig \\
  --root-dir=$work/kubelet --hostname-override=$node --v=1 >$work/logs/kubelet.log 2>&1 &
echo \$! >$work/pids/kubelet
wait
EOF
  chmod +x "$work/node.sh"
}

pause_image() {
  if ! docker image inspect "$pause_image" >/dev/null 2>&1; then
    local ctx
    ctx=$(mktemp -d)
    cp "$bin/pause" "$ctx/pause"
    printf 'FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n' >"$ctx/Dockerfile"
    DOCKER_BUILDKIT=0 docker build -q -t "$pause_image" "$ctx" >"$work/logs/pause-image.log" 2>&1 \
      || { cat "$work/logs/pause-image.log" >&2; rm -rf "$ctx"; die "building the pause image failed"; }
    rm -rf "$ctx"
  fi
  import "$pause_image"
}

import() {
  local img
  for img in "$@"; do
    docker image inspect "$img" >/dev/null 2>&1 || die "image $img is not in Docker (build it first, e.g. 'make image')"
    docker save "$img" | ctr --address "$work/containerd/containerd.sock" -n k8s.io images import - >/dev/null \
      || die "importing $img into the node's containerd failed"
  done
}

up() {
  need_root
  need_binaries
  ports
  [ ! -e "$work/pids" ] || die "$work holds a cluster already (bash k8s/cluster.sh down first, or set K8S_WORK)"
  if [ -f "$node_lock" ]; then
    local other
    other=$(cat "$node_lock")
    if [ -f "$other/pids/kubelet" ] && kill -0 "$(cat "$other/pids/kubelet")" 2>/dev/null; then
      die "a cluster runs in $other already, and two kubelets cannot share a host (K8S_WORK=$other bash k8s/cluster.sh down first)"
    fi
  fi
  local p
  for p in $etcd_port $etcd_peer_port $api_port $cm_port $sched_port $kubelet_port $kubelet_healthz_port $stream_port; do
    port_free "$p" || die "port 127.0.0.1:$p is taken; set K8S_PORT_BASE to the first of 8 free consecutive ports"
  done
  mkdir -p "$work/logs" "$work/pids"
  work=$(cd "$work" && pwd)
  trap '[ $? -eq 0 ] || say "up failed; the logs are in $work/logs, and K8S_WORK=$work bash k8s/cluster.sh down stops what it started"' EXIT
  echo "K8S_PORT_BASE=$etcd_port" >"$work/ports"
  echo "$work" >"$node_lock"
  # What the kubelet creates outside its root dir, so that down removes only
  # what up made.
  [ -e /var/lib/kubelet ] || touch "$work/made-var-lib-kubelet"
  export PATH="$bin:$PATH"
  local started=$SECONDS
  certificates
  node_config

  start etcd etcd --name node --data-dir "$work/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "node=http://127.0.0.1:$etcd_peer_port" --quota-backend-bytes 1073741824
  wait_for etcd 30 "$work/logs/etcd.log" etcd_healthy "$etcd_port"

  # No kube-proxy routes service addresses, so they come from loopback; the
  # Endpoints reconciler would reject 127.0.0.1 as the apiserver's address.
  start kube-apiserver kube-apiserver --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
    --secure-port="$api_port" --etcd-servers="http://127.0.0.1:$etcd_port" \
    --service-cluster-ip-range=127.100.0.0/24 --endpoint-reconciler-type=none \
    --tls-cert-file="$work/pki/apiserver.crt" --tls-private-key-file="$work/pki/apiserver.key" \
    --client-ca-file="$work/pki/ca.crt" --authorization-mode=Node,RBAC \
    --service-account-key-file="$work/pki/sa.pub" --service-account-signing-key-file="$work/pki/sa.key" \
    --service-account-issuer="https://127.0.0.1:$api_port" \
    --kubelet-client-certificate="$work/pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$work/pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$work/pki/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --profiling=false
  wait_for kube-apiserver 90 "$work/logs/kube-apiserver.log" \
    kubectl --kubeconfig "$work/admin.kubeconfig" get --raw /readyz

  start kube-controller-manager kube-controller-manager --kubeconfig="$work/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$work/controller-manager.kubeconfig" --authorization-kubeconfig="$work/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$cm_port" --leader-elect=false \
    --service-account-private-key-file="$work/pki/sa.key" --root-ca-file="$work/pki/ca.crt" \
    --use-service-account-credentials=true --flex-volume-plugin-dir="$work/flexvolume" --profiling=false
  start kube-scheduler kube-scheduler --kubeconfig="$work/scheduler.kubeconfig" \
    --authentication-kubeconfig="$work/scheduler.kubeconfig" --authorization-kubeconfig="$work/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$sched_port" --leader-elect=false --profiling=false

  start node unshare --mount --propagation private bash "$work/node.sh"
  wait_for containerd 30 "$work/logs/containerd.log" ctr --address "$work/containerd/containerd.sock" version
  pause_image
  wait_for "node $node" 90 "$work/logs/kubelet.log" \
    kubectl --kubeconfig "$work/admin.kubeconfig" wait --for=condition=Ready "node/$node" --timeout=1s
  # The default ServiceAccount, which every pod needs, comes from the
  # controller-manager.
  wait_for "the default ServiceAccount" 60 "$work/logs/kube-controller-manager.log" \
    kubectl --kubeconfig "$work/admin.kubeconfig" get serviceaccount default
  say "up in $((SECONDS - started)) s: node $node Ready, kubeconfig $work/admin.kubeconfig"
  echo "$work/admin.kubeconfig"
}

# stop NAME SECONDS: SIGTERM, then SIGKILL after SECONDS.
stop() {
  alive "$1" || { rm -f "$work/pids/$1"; return 0; }
  local pid i
  pid=$(cat "$work/pids/$1")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$work/pids/$1"
}

# The shims of this cluster's containerd (found by its socket, which is
# unique to this work dir) and what runs under them.
shims() {
  local d cmdline
  for d in /proc/[0-9]*; do
    cmdline=$({ tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null) || continue
    case $cmdline in
    *containerd-shim*"-address $work/containerd/containerd.sock "*) echo "${d#/proc/}" ;;
    esac
  done
}

descendants() {
  local child
  for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    descendants "$child"
    echo "$child"
  done
}

down() {
  need_root
  [ -d "$work" ] || { say "nothing to stop ($work does not exist)"; return 0; }
  work=$(cd "$work" && pwd)
  local sock=$work/containerd/containerd.sock id pid
  stop kubelet 20
  # Every container and sandbox, so that no shim outlives containerd.
  if alive containerd && [ -S "$sock" ]; then
    for id in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$sock" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    for id in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      timeout 10 ctr --address "$sock" -n k8s.io tasks rm -f "$id" >/dev/null 2>&1 || true
    done
    for id in $(ctr --address "$sock" -n k8s.io containers ls -q 2>/dev/null); do
      ctr --address "$sock" -n k8s.io containers rm "$id" >/dev/null 2>&1 || true
    done
  fi
  stop containerd 20
  for pid in $(shims); do
    kill -KILL $(descendants "$pid") "$pid" 2>/dev/null || true
  done
  stop node 10
  stop kube-scheduler 10
  stop kube-controller-manager 10
  stop kube-apiserver 20
  stop etcd 10
  # The kubelet's pod cgroups (cgroupfs driver), empty once the pods are gone.
  local cg
  for cg in /sys/fs/cgroup/*/kubepods; do
    [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  # The kubelet hard-codes /var/lib/kubelet/device-plugins.
  if [ -e "$work/made-var-lib-kubelet" ]; then
    rm -rf /var/lib/kubelet
  else
    rm -rf /var/lib/kubelet/device-plugins
  fi
  if grep -q " $work/" /proc/self/mountinfo; then
    die "mounts under $work are left: $(grep " $work/" /proc/self/mountinfo | cut -d' ' -f5 | head -5)"
  fi
  [ -z "$(shims)" ] || die "shims of $sock still run: $(shims)"
  [ "$(cat "$node_lock" 2>/dev/null)" != "$work" ] || rm -f "$node_lock"
  # Everything but the logs.
  find "$work" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
  say "down; logs kept in $work/logs"
}

status() {
  local name
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler node containerd kubelet; do
    if alive "$name"; then echo "$name: running (pid $(cat "$work/pids/$name"))"; else echo "$name: not running"; fi
  done
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
import)
  shift
  [ $# -gt 0 ] || die "import: name the images (e.g. event-processor:dev)"
  need_root
  alive containerd || die "no cluster runs in $work (bash k8s/cluster.sh up)"
  work=$(cd "$work" && pwd)
  import "$@"
  ;;
*) die "usage: bash k8s/cluster.sh up|down|status|import IMAGE..." ;;
esac
