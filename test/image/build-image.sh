#!/usr/bin/env bash
# Builds a small Debian 12 cloud image (qcow2) for the tests from Debian packages alone (no
# cloud.debian.org download), and prints its path on stdout. Progress goes to stderr.
#
# The image is cached under ${VM_CLUSTER_CACHE:-$HOME/.cache/vm-cluster}/images/, keyed by the hash
# of this script and packages.txt: a change to either builds a new image, anything else reuses it.
# It appears there only once complete (built in a temporary folder, then renamed); a failed build
# leaves nothing behind. Needs root (mmdebstrap's root mode, a loop device for extlinux).
#
# Set VM_CLUSTER_DEBIAN_MIRROR to a mirror URI to build from a local mirror instead of deb.debian.org.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
packages_file="$here/packages.txt"
cache="${VM_CLUSTER_CACHE:-$HOME/.cache/vm-cluster}/images"
key=$(cat "$here/build-image.sh" "$packages_file" | sha256sum | cut -c1-16)
image="$cache/debian-12-test-$key.qcow2"

# Like a genericcloud image: 2 GiB, one ext4 partition from 1 MiB on. Debian's cloud.cfg runs growpart
# and resizefs, so a VM whose disk was resized gets the space at first boot.
disk_bytes=$((2 * 1024 * 1024 * 1024))
part_offset=$((1024 * 1024))
part_bytes=$((disk_bytes - part_offset))

log() { printf 'build-image: %s\n' "$*" >&2; }

if [[ -f $image ]]; then
  echo "$image"
  exit 0
fi

mkdir -p "$cache"
# Two test runs starting at once build once: the second waits, then finds the image.
exec 9>"$cache/.build.lock"
flock 9
if [[ -f $image ]]; then
  echo "$image"
  exit 0
fi

# Under the lock any other build folder is a leftover of a killed build. --one-file-system: never
# descend into a chroot's /proc or /sys that a killed mmdebstrap left mounted.
for stale in "$cache"/.build-*; do
  if [[ -d $stale ]]; then
    rm -rf --one-file-system "$stale" || log "could not remove $stale"
  fi
done

work=$(mktemp -d "$cache/.build-$key.XXXXXX")
loop=""
mounted=""
cleanup() {
  [[ -n $mounted ]] && umount "$mounted"
  [[ -n $loop ]] && losetup -d "$loop"
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

started=$SECONDS
packages=$(grep -v -e '^#' -e '^[[:space:]]*$' "$packages_file" | paste -sd, -)
mirrors=()
[[ -n ${VM_CLUSTER_DEBIAN_MIRROR:-} ]] && mirrors=("$VM_CLUSTER_DEBIAN_MIRROR")

log "mmdebstrap bookworm ($packages)"
# Documentation, manual pages and translations are dead weight in a test guest.
mmdebstrap --quiet --variant=apt --include="$packages" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  bookworm "$work/root" "${mirrors[@]}" >&2
log "root file system ready after $((SECONDS - started)) s"

root="$work/root"
uuid=$(cat /proc/sys/kernel/random/uuid)
kernel=$(cd "$root/boot" && ls vmlinuz-*)
initrd=$(cd "$root/boot" && ls initrd.img-*)

# mmdebstrap copied the build host's resolver and name: the guest's come from DHCP and cloud-init.
rm -f "$root/etc/resolv.conf" "$root/etc/hostname"
echo debian >"$root/etc/hostname"
printf 'UUID=%s / ext4 rw,discard,errors=remount-ro 0 1\n' "$uuid" >"$root/etc/fstab"
# C.UTF-8 needs no locale-gen, so cloud-init's locale module has nothing to do at boot.
echo 'LANG=C.UTF-8' >"$root/etc/default/locale"
# The tests seed every guest with a NoCloud ISO; probing other clouds' metadata services only costs time.
printf 'datasource_list: [NoCloud]\n' >"$root/etc/cloud/cloud.cfg.d/90_vm-cluster.cfg"
# Each guest gets its host keys from cloud-init (pre-generated, so known_hosts can be written);
# keys baked into the image would be shared by every VM.
rm -f "$root"/etc/ssh/ssh_host_*
# Some vendor images ship a lax sshd drop-in; this one does too, so the tests prove that vm-cluster's
# own settings (key only) win over the image's.
printf 'PermitRootLogin yes\nPasswordAuthentication yes\nKbdInteractiveAuthentication yes\n' >"$root/etc/ssh/sshd_config.d/10-image-defaults.conf"
# No password login on the console either, unless the seed sets one.
chroot "$root" passwd --quiet --lock root
# An empty machine-id tells systemd "first boot": every VM makes its own (and so its own DHCP client id).
rm -f "$root/etc/machine-id" "$root/var/lib/dbus/machine-id"
: >"$root/etc/machine-id"

mkdir -p "$root/boot/extlinux"
cat >"$root/boot/extlinux/extlinux.conf" <<EOF
default debian
timeout 1
label debian
  kernel /boot/$kernel
  initrd /boot/$initrd
  append root=UUID=$uuid ro console=ttyS0,115200
EOF

log "disk image"
disk="$work/disk.raw"
truncate -s "$disk_bytes" "$disk"
printf 'label: dos\nstart=%d, type=83, bootable\n' $((part_offset / 512)) | sfdisk --quiet "$disk"
# Without 64bit: older syslinux releases cannot boot from such an ext4, and a 32-bit one still grows to 16 TiB.
mkfs.ext4 -q -F -O ^64bit -L root -U "$uuid" -d "$root" -E offset=$part_offset "$disk" $((part_bytes / 1024))k
loop=$(losetup --find --show --offset $part_offset --sizelimit $part_bytes "$disk")
mkdir "$work/mnt"
mount "$loop" "$work/mnt"
mounted="$work/mnt"
extlinux --install "$work/mnt/boot/extlinux" 2>&1 | sed 's/^/extlinux: /' >&2
umount "$mounted"
mounted=""
losetup -d "$loop"
loop=""
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none

log "qcow2 after $((SECONDS - started)) s"
# zstd: 2 s instead of zlib's 11 s here, and smaller; any QEMU from 5.1 on reads it.
qemu-img convert -c -O qcow2 -o compression_type=zstd "$disk" "$work/image.qcow2"
mv -T "$work/image.qcow2" "$image"
log "built $image ($(du -h "$image" | cut -f1)) in $((SECONDS - started)) s"
echo "$image"
