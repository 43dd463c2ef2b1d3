#!/bin/bash
# PID 1 of the real-kernel lab VM. The VM has no network device to the outside at all; inside,
# every lab host is a network + mount + UTS + PID namespace with its own overlay root and sshd,
# on one bridge (docker/topology's network, the VIP free). Then /work/run.sh runs in the client's
# namespaces, its output goes to the console, and the VM powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sys /sys
mountpoint -q /dev || mount -t devtmpfs dev /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -o remount,rw / 2>/dev/null
mount /dev/vdb /work
exec >/dev/console 2>&1
say() { echo "vm: $*"; }
say "init at $(cut -d' ' -f1 /proc/uptime) s of uptime"
hostname lab-vm
ip link set lo up
ip link add br0 type bridge
ip link set br0 up
. /work/lab/topology.sh   # hosts, addr[], lab_network: docker/topology, copied in by docker/vm/run
for h in "${hosts[@]}"; do
  ip netns add $h
  ip link add v-$h type veth peer name eth0 netns $h
  ip link set v-$h master br0 up
  ip -n $h link set lo up
  ip -n $h addr add ${addr[$h]}/${lab_network#*/} dev eth0
  ip -n $h link set eth0 up
  d=/run/hosts/$h; mkdir -p $d/upper $d/work $d/root
  mount -t overlay overlay -o lowerdir=/,upperdir=$d/upper,workdir=$d/work $d/root
  mkdir -p $d/root/root/.ssh $d/root/home/deploy/.ssh
  for home in $d/root/root $d/root/home/deploy; do cp /work/lab/id_ed25519.pub $home/.ssh/authorized_keys; done
  chown -R 1000:1000 $d/root/home/deploy/.ssh
  [ $h = client ] && cp /work/lab/id_ed25519 $d/root/root/.ssh/id_ed25519 && chmod 600 $d/root/root/.ssh/id_ed25519
  ip netns exec $h unshare --mount --uts --pid --fork --kill-child /bin/bash -c "
    mount --make-rprivate /
    R=$d/root
    mount -t proc proc \$R/proc; mount --rbind /sys \$R/sys; mount --rbind /dev \$R/dev
    mount -t tmpfs tmpfs \$R/run; mount -t tmpfs tmpfs \$R/tmp
    [ $h = client ] && mount --bind /work \$R/work
    hostname $h
    exec chroot \$R /usr/local/sbin/lab-host-init" </dev/null &
  echo $! >$d/launcher.pid
done
for h in "${hosts[@]}"; do
  for i in $(seq 600); do
    [ -s /run/hosts/$h/root/etc/ssh/ssh_host_ed25519_key.pub ] && ip netns exec client bash -c "exec 3<>/dev/tcp/${addr[$h]}/22" 2>/dev/null && break
    sleep 0.1
  done
done
kh=/run/hosts/client/root/root/.ssh/known_hosts; : >$kh
for h in "${hosts[@]}"; do
  for k in /run/hosts/$h/root/etc/ssh/ssh_host_*_key.pub; do echo "${addr[$h]} $(cut -d' ' -f1,2 $k)"; done >>$kh
done
say "hosts up in $(cut -d' ' -f1 /proc/uptime) s of uptime"
pid=$(pgrep -P "$(cat /run/hosts/client/launcher.pid)" | head -n 1)
nsenter -t "$pid" -a -r -w /bin/bash -c 'cd /work && exec /bin/bash /work/run.sh' </dev/null
rc=$?
echo "@@exit $rc"
sync
echo o >/proc/sysrq-trigger
sleep 10
