#!/usr/bin/env bash
# Starts (once) a containerd and a dockerd of our own for the end-to-end
# tests of the OCI runtime, with Pangolin configured as docker's runtime
# "pangolin" and as containerd CRI's runtime handler "pangolin", and
# imports the test images. Idempotent: daemons already up are reused.
# Prints shell assignments (DOCKER_HOST=..., CONTAINERD_ADDRESS=...,
# PANGOLIN_IMAGE=..., PAUSE_IMAGE=...).
#
#   tools/docker/daemons.sh start PANGOLIN_BINARY
#   tools/docker/daemons.sh stop PANGOLIN_BINARY
#
# Nothing touches the host's network: dockerd runs with --bridge=none and
# --iptables=false (containers use --network none or the host's), and the
# CRI pods use the node's network namespace, so no CNI plugin is needed.
# Everything lives under /var/lib/pangolin-e2e/KEY and /run/pangolin-e2e/KEY,
# the logs in /var/log/pangolin-e2e/KEY, KEY naming the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 2 ] || { echo "usage: $0 start|stop PANGOLIN_BINARY" >&2; exit 2; }
bin=$(readlink -f "$2")
# One pair of daemons per Pangolin binary (per checkout), so that test
# runs of several checkouts at once never restart each other's daemons.
key=$(echo -n "$bin" | sha256sum | cut -c1-8)
state=/run/pangolin-e2e/$key
lib=/var/lib/pangolin-e2e/$key
logs=/var/log/pangolin-e2e/$key
ctrd_sock=$state/containerd/containerd.sock
docker_sock=$state/docker.sock
image=pangolin-debian:e2e
pause_image=pangolin.local/pause:e2e

log() { echo "daemons: $*" >&2; }
die() { echo "daemons: $*" >&2; exit 1; }

up() { [ -S "$1" ] && [ -f "$2" ] && kill -0 "$(cat "$2")" 2>/dev/null; }

# setsid_bare becomes a long-lived daemon in a session of its own with no
# descriptor above stderr: one that inherited a lock (this script's, or a
# caller's such as a test runner's) would hold it for its life, and every
# later taker would wait forever. Call it only as a background job
# (`setsid_bare CMD &`): it closes descriptors and execs in the calling
# shell, which must be that job's own.
setsid_bare() {
  local fd n
  for fd in /proc/self/fd/*; do
    n=${fd##*/}
    [ "$n" -gt 2 ] && eval "exec $n>&-"
  done 2>/dev/null
  exec setsid "$@"
}

start() {
  local bin=$1
  [ -x "$bin" ] || die "$bin: not an executable (make build first)"
  command -v dockerd >/dev/null && command -v containerd >/dev/null ||
    die "docker.io and containerd are not installed (.ci/setup installs them)"
  mkdir -p "$state" "$lib" "$logs"
  # One start at a time (parallel test binaries of one checkout). The
  # daemons must not inherit the lock's descriptor (setsid_bare), or they
  # would hold it for ever.
  exec 8>"$state/.lock"
  flock 8
  # The runtime's state root must be on a local filesystem; containerd's
  # shim calls it with --root under its own state directory.
  cat > "$state/containerd.toml" <<TOML
version = 2
root = "$lib/containerd"
state = "$state/containerd"
[grpc]
  address = "$ctrd_sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.pangolin]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.pangolin.options]
        BinaryName = "$bin"
        Root = "$state/pangolin-cri"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$lib/cni/bin"
    conf_dir = "$lib/cni/net.d"
TOML
  cat > "$state/daemon.json" <<JSON
{
  "runtimes": {
    "pangolin": { "path": "$bin" }
  },
  "storage-driver": "overlay2",
  "bridge": "none",
  "iptables": false,
  "ip-masq": false,
  "ip-forward": false,
  "containerd": "$ctrd_sock",
  "data-root": "$lib/docker",
  "exec-root": "$state/docker-exec",
  "pidfile": "$state/docker.pid",
  "hosts": ["unix://$docker_sock"]
}
JSON
  if ! up "$ctrd_sock" "$state/containerd.pid"; then
    log "starting containerd (log: $logs/containerd.log)"
    setsid_bare containerd --config "$state/containerd.toml" </dev/null >>"$logs/containerd.log" 2>&1 &
    echo $! > "$state/containerd.pid"
    for _ in $(seq 100); do [ -S "$ctrd_sock" ] && break; sleep 0.1; done
    [ -S "$ctrd_sock" ] || { tail -n 20 "$logs/containerd.log" >&2; die "containerd did not start"; }
  fi
  if ! up "$docker_sock" "$state/docker.pid"; then
    log "starting dockerd (log: $logs/dockerd.log)"
    rm -f "$state/docker.pid"
    setsid_bare dockerd --config-file "$state/daemon.json" </dev/null >>"$logs/dockerd.log" 2>&1 &
    for _ in $(seq 300); do docker -H "unix://$docker_sock" version >/dev/null 2>&1 && break; sleep 0.1; done
    docker -H "unix://$docker_sock" version >/dev/null 2>&1 || { tail -n 20 "$logs/dockerd.log" >&2; die "dockerd did not start"; }
  fi
  export DOCKER_HOST=unix://$docker_sock
  # The Debian image: `docker import` of the debootstrap tree (there is no
  # registry here).
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    local tar=$lib/debian.tar
    "$here/../rootfs/build.sh" debian --tar "$tar" >/dev/null
    log "docker import $tar as $image"
    docker import --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$tar" "$image" >/dev/null
    rm -f "$tar"
  fi
  # The pod sandbox ("pause") image for CRI: a static program that
  # sleeps until signalled, imported into containerd's k8s.io namespace.
  if ! ctr -a "$ctrd_sock" -n k8s.io images ls -q | grep -qx "$pause_image"; then
    local d; d=$(mktemp -d)
    mkdir -p "$d/rootfs"
    gcc -static -O2 -o "$d/rootfs/pause" "$here/pause.c"
    tar -C "$d/rootfs" -cf "$d/pause.tar" .
    docker import --change 'ENTRYPOINT ["/pause"]' "$d/pause.tar" "$pause_image" >/dev/null
    docker save "$pause_image" -o "$d/pause-image.tar"
    ctr -a "$ctrd_sock" -n k8s.io images import "$d/pause-image.tar" >/dev/null
    rm -rf "$d"
  fi
  # The Debian image for CRI, too.
  if ! ctr -a "$ctrd_sock" -n k8s.io images ls -q | grep -qx "docker.io/library/$image"; then
    local d; d=$(mktemp -d)
    docker save "$image" -o "$d/img.tar"
    ctr -a "$ctrd_sock" -n k8s.io images import "$d/img.tar" >/dev/null
    rm -rf "$d"
  fi
  echo "DOCKER_HOST=unix://$docker_sock"
  echo "CONTAINERD_ADDRESS=$ctrd_sock"
  echo "PANGOLIN_IMAGE=$image"
  echo "PAUSE_IMAGE=$pause_image"
  echo "PANGOLIN_CRI_ROOT=$state/pangolin-cri"
}

stop() {
  local p
  # Containers first, while the daemons can still remove them (their
  # shims outlive the daemons, and so would the sandboxes).
  if up "$docker_sock" "$state/docker.pid"; then
    docker -H "unix://$docker_sock" ps -aq | xargs -r docker -H "unix://$docker_sock" rm -f >/dev/null 2>&1 || true
  fi
  if [ -S "$ctrd_sock" ]; then
    ctr -a "$ctrd_sock" -n k8s.io tasks ls -q 2>/dev/null | while read -r id; do
      ctr -a "$ctrd_sock" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
      sleep 0.2
      ctr -a "$ctrd_sock" -n k8s.io tasks rm "$id" >/dev/null 2>&1 || true
    done
  fi
  for p in "$state/docker.pid" "$state/containerd.pid"; do
    local pid
    pid=$(cat "$p" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$p"
  done
}

case $1 in
  start) start "$bin" ;;
  stop) stop ;;
  *) die "usage: $0 start|stop PANGOLIN_BINARY" ;;
esac
