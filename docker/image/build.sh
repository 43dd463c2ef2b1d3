#!/usr/bin/env bash
# Builds the lab's host image from Debian's own packages, with no container registry.
#
# debootstrap makes a bookworm root from the apt mirror this machine already uses; the packages
# lvsprov installs on lab hosts are downloaded into the root's apt cache (not installed), so a real
# `apt-get install` works inside the lab, which has no route out. The image is tagged with a hash
# of this folder, so a change here rebuilds it and an unchanged folder reuses it (warm start).
#   build.sh [RELEASE]   bookworm (default: every LVS host) or trixie (the bastion: OpenSSH 10)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
release=${1:-bookworm}
tag=$("$here/tag.sh" "$release")
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "lab image $tag is built"
  exit 0
fi

mirror=${LAB_MIRROR:-http://deb.debian.org/debian}
cache=${LAB_CACHE:-/var/cache/lvsprov-lab}
mkdir -p "$cache"
root=$(mktemp -d "$cache/root-$release.XXXXXX"); chmod 755 "$root"
cleanup() { umount -R "$root/proc" 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT

command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 1; }

# Installed: what every host needs to be reached and driven. Downloaded only: what lvsprov installs.
base_pkgs=openssh-server,sudo,iproute2,procps,curl,ca-certificates,kmod,iputils-ping,less
lab_pkgs="ipvsadm keepalived apache2"

echo "debootstrap $release into $root"
debootstrap --variant=minbase --include="$base_pkgs" "$release" "$root" "$mirror" >"$cache/debootstrap-$release.log" 2>&1 \
  || { tail -n 30 "$cache/debootstrap-$release.log" >&2; exit 1; }

cat >"$root/etc/apt/sources.list" <<SRC
deb $mirror $release main
deb $mirror $release-updates main
deb http://deb.debian.org/debian-security $release-security main
SRC
# dpkg's fsync makes offline installs three times slower in a container; nothing here needs it.
echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/unsafe-io"
# Keep downloaded .debs: they are the lab's offline package source.
echo 'APT::Keep-Downloaded-Packages "true";' >"$root/etc/apt/apt.conf.d/99keep"
echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' >>"$root/etc/apt/apt.conf.d/99keep"
cp /etc/resolv.conf "$root/etc/resolv.conf"
chroot "$root" apt-get update -qq
chroot "$root" apt-get install -y -qq --download-only $lab_pkgs >/dev/null
# Services may start inside hosts (there is no init system to refuse them).
printf '#!/bin/sh\nexit 0\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# Every host gets its own host keys when its container first starts.
rm -f "$root"/etc/ssh/ssh_host_*
chroot "$root" useradd -m -s /bin/bash deploy
echo 'deploy ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/deploy"
chmod 440 "$root/etc/sudoers.d/deploy"
# ops's sudo wants a password (--ask-become-pass); the password is the lab's, for the tests.
chroot "$root" useradd -m -s /bin/bash ops
echo 'ops:lab-sudo-password' | chroot "$root" chpasswd
echo 'ops ALL=(ALL) ALL' >"$root/etc/sudoers.d/ops"
chmod 440 "$root/etc/sudoers.d/ops"
cat >"$root/etc/ssh/sshd_config.d/lab.conf" <<CONF
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
MaxStartups 200:30:400
MaxSessions 50
CONF
install -m 755 "$here/init.sh" "$root/usr/local/sbin/lab-init"
rm -rf "$root/var/lib/apt/lists/partial" "$root/tmp/"*
: >"$root/etc/resolv.conf"

echo "importing $tag"
tar -C "$root" -c . | docker import --change 'CMD ["/usr/local/sbin/lab-init"]' - "$tag" >/dev/null
echo "lab image $tag is built"
