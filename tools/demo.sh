#!/usr/bin/env bash
# The demo: a 2-VM cluster brought up with the literal `pulumi up`, then how to SSH into each VM.
#   tools/demo.sh up     set up this machine, bring the cluster up
#   tools/demo.sh down   `pulumi destroy`, then stop whatever the demo started
#
# On a host with usable KVM it runs the guests under KVM from the real Debian cloud image. Without
# KVM (a lab VM, a CI machine) it emulates them, builds a small Debian image from Debian packages
# and serves it from a loopback mirror, so nothing is downloaded from outside. Where no libvirtd
# runs (no systemd), the demo starts one inside a network namespace of its own, so the cluster's
# bridge, DHCP and firewall rules stay off this machine's network; VMs are then reached with
# `ip netns exec`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
demo="$root/.state/demo"
stack=demo
netns=vmc-demo
mirror_port=18098
export PATH="$root/.tools/bin:$PATH"

log() { printf 'demo: %s\n' "$*" >&2; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_for WHAT COMMAND...: up to 10 s for COMMAND to succeed.
wait_for() {
  local what=$1; shift
  for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "$what did not come up within 10 s"; return 1
}

kvm_usable() {
  [ -c /dev/kvm ] && grep -qE '\b(vmx|svm)\b' /proc/cpuinfo
}

# libvirtd: reuse a running one (and its namespace), else start one in our own namespace.
start_libvirtd() {
  if alive /run/libvirtd.pid; then
    netns=$(ip netns identify "$(cat /run/libvirtd.pid)")
    log "using the running libvirtd${netns:+ (network namespace $netns)}"
    return
  fi
  # What udev would do; without it every libvirt call re-probes QEMU (~90 s per define).
  [ -c /dev/kvm ] && chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
  ip netns list | grep -qw "^$netns" || { ip netns add "$netns"; touch "$demo/netns.created"; }
  ip netns exec "$netns" ip link set lo up
  if ! alive /run/virtlogd.pid; then
    ip netns exec "$netns" virtlogd -d
    wait_for "virtlogd" alive /run/virtlogd.pid
    cp /run/virtlogd.pid "$demo/virtlogd.pid"
  fi
  ip netns exec "$netns" libvirtd -d
  wait_for "libvirtd" virsh -q -c qemu:///system version
  cp /run/libvirtd.pid "$demo/libvirtd.pid"
  log "started libvirtd (pid $(cat "$demo/libvirtd.pid")) in network namespace $netns"
}

run_ns() { if [ -n "$netns" ]; then ip netns exec "$netns" "$@"; else "$@"; fi; }

# The offline image, served like a cloud image mirror on the VM host's loopback.
start_mirror() {
  mkdir -p "$demo/mirror"
  cp --reflink=auto "$(bash test/image/build-image.sh)" "$demo/mirror/test-image.qcow2"
  (cd "$demo/mirror" && sha512sum test-image.qcow2 > SHA512SUMS)
  # Started directly, not through a shell function: $! must be the server itself (`ip netns exec`
  # execs it), so that stopping it by pid stops it.
  local serve=(python3 -m http.server "$mirror_port" --bind 127.0.0.1 --directory "$demo/mirror")
  if [ -n "$netns" ]; then ip netns exec "$netns" "${serve[@]}" >/dev/null 2>&1 & else "${serve[@]}" >/dev/null 2>&1 & fi
  echo $! > "$demo/mirror.pid"
  wait_for "the image mirror" run_ns curl -fsS -o /dev/null "http://127.0.0.1:$mirror_port/SHA512SUMS"
}

# stop_pid FILE: stops the process FILE names and waits until it is gone (libvirtd takes seconds to
# shut down; a demo started again meanwhile would find it still "running").
stop_pid() {
  if alive "$1"; then
    local pid; pid=$(cat "$1")
    kill "$pid"
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then log "pid $pid did not stop within 15 s: killing it"; kill -9 "$pid"; fi
  fi
  rm -f "$1"
}

write_stack() {
  local domain_type=$1 image=$2
  [ -f "$demo/id_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -C "demo@vm-cluster" -f "$demo/id_ed25519"
  cat > "Pulumi.$stack.yaml" <<YAML
# Written by tools/demo.sh; \`pulumi config set\` works on it as on any stack.
config:
  vm-cluster:cluster: demo
  vm-cluster:host: { type: local${netns:+, netns: $netns} }
  vm-cluster:lan: { interface: lan0, subnet: 10.231.190.0/24 }
  vm-cluster:network: { cidr: 10.231.90.0/24, gateway: 10.231.90.1, dhcpStart: 10.231.90.2, dhcpEnd: 10.231.90.254 }
  vm-cluster:vms:
    - { name: boreas, ip: 10.231.90.10 }
    - { name: zephyrus, ip: 10.231.90.11 }
  vm-cluster:defaults: { disk: 4G, memoryMiB: 512, vcpus: 1 }
  vm-cluster:sshPublicKey: { file: $demo/id_ed25519.pub }
  vm-cluster:domainType: $domain_type
$image
YAML
}

up() {
  bash tools/setup.sh
  mkdir -p "$demo"
  if kvm_usable; then
    netns=""
    log "KVM is usable: the guests run under KVM from the Debian cloud image"
    alive /run/libvirtd.pid || command -v systemctl >/dev/null || start_libvirtd
    write_stack kvm ""
  else
    log "no usable KVM: the guests are emulated, from an image built here from Debian packages"
    start_libvirtd
    start_mirror
    write_stack qemu "  vm-cluster:image: { url: \"http://127.0.0.1:$mirror_port/test-image.qcow2\", checksumsUrl: \"http://127.0.0.1:$mirror_port/SHA512SUMS\" }"
  fi
  pulumi stack select --create "$stack"
  pulumi up --yes
  stop_pid "$demo/mirror.pid" # the base image is in the pool now
  # It names the stack's known_hosts file by its absolute path: usable from any folder.
  pulumi stack output sshConfig > "$demo/ssh_config"
  echo
  echo "The cluster is up. SSH into each VM with:"
  for vm in boreas zephyrus; do
    echo "  ${netns:+ip netns exec $netns }ssh -F $demo/ssh_config $vm"
  done
  echo "Take it down again with: npm run demo:down"
}

down() {
  if [ -f "Pulumi.$stack.yaml" ] && pulumi stack select "$stack" 2>/dev/null; then
    pulumi destroy --yes
    pulumi stack rm --yes "$stack"
  fi
  rm -f "Pulumi.$stack.yaml"
  stop_pid "$demo/mirror.pid"
  # Only what the demo itself started, by pid.
  stop_pid "$demo/libvirtd.pid"
  stop_pid "$demo/virtlogd.pid"
  if [ -f "$demo/netns.created" ]; then ip netns delete "$netns" 2>/dev/null || true; rm -f "$demo/netns.created"; fi
  rm -rf "$demo"
  log "down: the demo cluster and everything the demo started are gone"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: tools/demo.sh up|down" >&2; exit 2 ;;
esac
