#!/usr/bin/env bash
# Builds the real-kernel lab's disk from Debian's packages (no registry, no network at run time):
# Debian's cloud kernel (IPVS as a module), its initrd, and one ext4 root holding everything the
# hosts need, with ipvsadm, keepalived and apache2 installed but not started (under software
# emulation an install takes a minute per host; lvsprov sees them installed and moves on).
# Cached by a hash of this folder in $LAB_CACHE/vm-HASH.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${LAB_CACHE:-/var/cache/lvsprov-lab}
out="$cache/vm-$(cat "$here/build.sh" "$here/vm-init.sh" "$here/host-init.sh" | sha256sum | cut -c1-12)"
if [ -f "$out/root.img" ]; then echo "$out"; exit 0; fi
for tool in debootstrap mkfs.ext4 qemu-system-x86_64; do
  command -v $tool >/dev/null || { echo "vm build: $tool is missing (apt-get install -y debootstrap e2fsprogs qemu-system-x86)" >&2; exit 1; }
done
mirror=${LAB_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$cache"
root=$(mktemp -d "$cache/vmroot.XXXXXX"); chmod 755 "$root"
trap 'rm -rf "$root"' EXIT
pkgs=linux-image-cloud-amd64,initramfs-tools,openssh-server,sudo,iproute2,procps,curl,ca-certificates,kmod,ipvsadm,keepalived,apache2,iputils-arping,util-linux
echo "vm build: debootstrap (a few minutes)" >&2
# Nothing may start inside the build root.
mkdir -p "$root/usr/sbin"; printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
debootstrap --variant=minbase --include="$pkgs" bookworm "$root" "$mirror" >"$cache/vm-debootstrap.log" 2>&1 \
  || { tail -n 30 "$cache/vm-debootstrap.log" >&2; exit 1; }
printf '#!/bin/sh\nexit 0\n' >"$root/usr/sbin/policy-rc.d"
rm -f "$root"/etc/ssh/ssh_host_*
chroot "$root" useradd -m -s /bin/bash deploy
echo 'deploy ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/deploy"; chmod 440 "$root/etc/sudoers.d/deploy"
printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n' >"$root/etc/ssh/sshd_config.d/lab.conf"
# Services start when lvsprov says so, not at package install or boot.
for s in apache2 keepalived ipvsadm; do chroot "$root" update-rc.d -f $s remove >/dev/null 2>&1 || true; done
install -m 755 "$here/vm-init.sh" "$root/usr/local/sbin/lab-vm-init"
install -m 755 "$here/host-init.sh" "$root/usr/local/sbin/lab-host-init"
mkdir -p "$root/work"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
: >"$root/etc/resolv.conf"
mkdir -p "$out.tmp"
cp "$root"/boot/vmlinuz-* "$out.tmp/vmlinuz"
cp "$root"/boot/initrd.img-* "$out.tmp/initrd.img"
echo "vm build: ext4 image" >&2
mkfs.ext4 -q -F -L lvsroot -d "$root" "$out.tmp/root.img" 2G >&2
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out"
