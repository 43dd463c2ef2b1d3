#!/bin/bash
# The real-kernel lab VM's init (after the image's stub mounted /proc, /sys, /dev and /work).
# The VM has no network device to the outside at all. Inside, on one bridge (docker/topology's
# network, the VIP free):
#  - every LVS host is a systemd-nspawn machine booting systemd as its PID 1, in a network
#    namespace of its own (own addresses, sysctls, IPVS table), with its own root (an overlay of
#    its Debian release's root: writes stay across its reboots), its own sshd and host key;
#  - the client, the operator's machine, is a plain namespace running /work/run.sh.
# `lab reboot` in the client asks this init (through a FIFO on /work) to reboot hosts for real.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/netns
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
exec >/dev/console 2>&1
[ -z "${LAB_TRACE:-}" ] || set -x
say() { echo "vm: $*"; }
say "init at $(cut -d' ' -f1 /proc/uptime) s of uptime"
# VM_ACCT=1 (docker/vm/run): every process that ends in the VM, in any namespace, is recorded in
# /work/pacct for the client's acct-summary. 163 is acct(2) on x86_64 (perl-base has no syscall.ph).
[ -z "${lab_acct:-}" ] || { : >/work/pacct; perl -e 'my $f = "/work/pacct"; syscall(163, $f) == 0 or die "acct: $!\n"'; }
hostname lab-vm
# IPVS as a host with it has it: a machine cannot load modules, and trixie has no modules for this kernel.
modprobe -a ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_mh nf_conntrack
ip link set lo up
ip link add br0 type bridge
ip link set br0 up
. /work/lab/topology.sh   # hosts, addr[], os[], lab_network: docker/topology, copied in by docker/vm/run
. /work/lab/lab           # boot_host, power_off, serve: the host lifecycle

for h in "${hosts[@]}" "${routers[@]}"; do
  [ "${os[$h]}" = - ] && continue   # a container-lab-only host
  d=/run/hosts/$h
  disk_new $h
  if [ $h = client ]; then
    cp /work/lab/id_ed25519 $d/root/root/.ssh/id_ed25519; chmod 600 $d/root/root/.ssh/id_ed25519
    net_up $h
    ip netns exec $h unshare --mount --uts --pid --fork --kill-child /bin/bash -c "
      mount --make-rprivate /
      R=$d/root
      mount -t proc proc \$R/proc; mount --rbind /sys \$R/sys; mount --rbind /dev \$R/dev
      mount -t tmpfs tmpfs \$R/run; mount -t tmpfs tmpfs \$R/tmp
      mount --bind /work \$R/work
      hostname $h
      exec chroot \$R /bin/bash -c 'trap \"exit 0\" TERM; while :; do sleep 3600 & wait \$!; done'" </dev/null &
    echo $! >$d/launcher.pid
  else
    boot_host $h
  fi
done
for h in "${hosts[@]}" "${routers[@]}"; do
  [ $h = client ] || [ "${os[$h]}" = - ] && continue
  wait_ssh $h 600 || say "$h: sshd did not answer in 600 s"
done
kh=/run/hosts/client/root/root/.ssh/known_hosts; : >$kh
for h in "${hosts[@]}" "${routers[@]}"; do
  [ "${os[$h]}" = - ] && continue
  for k in /run/hosts/$h/root/etc/ssh/ssh_host_*_key.pub; do [ -e $k ] && echo "${addr[$h]} $(cut -d' ' -f1,2 $k)"; done >>$kh
done
say "hosts up in $(cut -d' ' -f1 /proc/uptime) s of uptime"
serve &
pid=$(pgrep -P "$(cat /run/hosts/client/launcher.pid)" | head -n 1)
nsenter -t "$pid" -a -r -w /bin/bash -c 'cd /work && exec /bin/bash /work/run.sh' </dev/null
rc=$?
echo "@@exit $rc"
sync
echo o >/proc/sysrq-trigger
sleep 10
