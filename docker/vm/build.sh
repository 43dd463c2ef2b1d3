#!/usr/bin/env bash
# Builds the real-kernel lab's disk from Debian's packages (no registry, no network at run time):
# Debian's cloud kernel (IPVS as a module), its initrd, and one ext4 root. That root is the VM's
# own system and, through an overlay each, the root of every Debian 12 lab host; a Debian 13
# (trixie: OpenSSH 10, systemd 257, keepalived 2.3) root lives under /srv/trixie for the hosts
# `docker/topology` marks trixie. Every LVS host boots systemd (systemd-nspawn --boot); ipvsadm,
# keepalived, apache2 and bird2 are installed but disabled (under software emulation an install takes a
# minute per host; lvsprov sees them installed and enables what it needs).
# Cached by a hash of this script and host-init.sh in $LAB_CACHE/vm-HASH.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${LAB_CACHE:-/var/cache/lvsprov-lab}
out="$cache/vm-$(cat "$here/build.sh" "$here/host-init.sh" | sha256sum | cut -c1-12)"
if [ -f "$out/root.img" ]; then echo "$out"; exit 0; fi
for tool in debootstrap mkfs.ext4 qemu-system-x86_64; do
  command -v $tool >/dev/null || { echo "vm build: $tool is missing (apt-get install -y debootstrap e2fsprogs qemu-system-x86)" >&2; exit 1; }
done
mirror=${LAB_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$cache"
root=$(mktemp -d "$cache/vmroot.XXXXXX"); chmod 755 "$root"
trap 'rm -rf "$root"' EXIT
host_pkgs=systemd,systemd-sysv,dbus,openssh-server,sudo,iproute2,procps,curl,ca-certificates,kmod,ipvsadm,keepalived,apache2,iputils-arping,nftables,net-tools,dnsmasq-base,bind9-dnsutils,bird2
vm_pkgs=linux-image-cloud-amd64,initramfs-tools,util-linux,systemd-container,$host_pkgs

# One host root: nothing may start while it is built; services start when lvsprov says so.
bootstrap() { # SUITE DIR PKGS
  local suite=$1 dir=$2 pkgs=$3
  mkdir -p "$dir/usr/sbin"; printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"; chmod 755 "$dir/usr/sbin/policy-rc.d"
  debootstrap --variant=minbase --include="$pkgs" "$suite" "$dir" "$mirror" >"$cache/vm-debootstrap-$suite.log" 2>&1 \
    || { tail -n 30 "$cache/vm-debootstrap-$suite.log" >&2; return 1; }
  printf '#!/bin/sh\nexit 0\n' >"$dir/usr/sbin/policy-rc.d"
  rm -f "$dir"/etc/ssh/ssh_host_*
  chroot "$dir" useradd -m -s /bin/bash deploy
  echo 'deploy ALL=(ALL) NOPASSWD:ALL' >"$dir/etc/sudoers.d/deploy"; chmod 440 "$dir/etc/sudoers.d/deploy"
  printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\nHostKey /etc/ssh/ssh_host_ed25519_key\n' >"$dir/etc/ssh/sshd_config.d/lab.conf"
  chroot "$dir" systemctl disable -q apache2 keepalived nftables bird 2>/dev/null || true
  chroot "$dir" update-rc.d -f ipvsadm remove >/dev/null 2>&1 || true
  # What a host does at boot that only costs time under emulation.
  chroot "$dir" systemctl mask -q apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer \
    fstrim.timer systemd-journald-audit.socket console-getty.service getty@.service 2>/dev/null || true
  # systemd runs every generator at each boot and each daemon-reload (a Debian `systemctl enable`
  # of a unit with an init script reloads twice, through update-rc.d): over the VM's stories, about
  # 1 s of emulated CPU a reload for the set. The hosts need only the one that makes units of init
  # scripts, which lvsprov's facts read. A session's message of the day is a run-parts per login.
  mkdir -p "$dir/etc/systemd/system-generators"
  local g
  for g in "$dir"/usr/lib/systemd/system-generators/*; do
    if [ -e "$g" ] && [ "${g##*/}" != systemd-sysv-generator ]; then ln -sfn /dev/null "$dir/etc/systemd/system-generators/${g##*/}"; fi
  done
  sed -i '/pam_motd\.so/s/^/# lab: no motd: /' "$dir/etc/pam.d/sshd"
  install -m 755 "$here/host-init.sh" "$dir/usr/local/sbin/lab-host-keys"
  cat >"$dir/etc/systemd/system/lab-host-keys.service" <<'UNIT'
[Unit]
Description=lab: this host's own SSH host key, made once and kept across reboots
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/lab-host-keys
[Install]
WantedBy=multi-user.target
UNIT
  chroot "$dir" systemctl enable -q lab-host-keys.service
  : >"$dir/etc/machine-id"; rm -f "$dir/var/lib/dbus/machine-id"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  : >"$dir/etc/resolv.conf"
}
echo "vm build: debootstrap bookworm and trixie (a few minutes)" >&2
bootstrap bookworm "$root" "$vm_pkgs" &
b=$!
mkdir -p "$root.trixie"
bootstrap trixie "$root.trixie" "$host_pkgs" &
t=$!
wait $b; wait $t
mkdir -p "$root/srv"; mv "$root.trixie" "$root/srv/trixie"
# The VM's PID 1 is docker/vm/vm-init.sh from the work disk, so changing it needs no new image.
cat >"$root/usr/local/sbin/lab-vm-init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -o remount,rw /; mount /dev/vdb /work
exec /bin/bash /work/lab/vm-init.sh
INIT
chmod 755 "$root/usr/local/sbin/lab-vm-init"
mkdir -p "$root/work"
mkdir -p "$out.tmp"
cp "$root"/boot/vmlinuz-* "$out.tmp/vmlinuz"
cp "$root"/boot/initrd.img-* "$out.tmp/initrd.img"
echo "vm build: ext4 image" >&2
mkfs.ext4 -q -F -L lvsroot -d "$root" "$out.tmp/root.img" 4G >&2
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out"
