#!/usr/bin/env bash
# The bench fleet: N hosts, each its own network namespace (its own sysctls, addresses on lo) and
# mount namespace (its own /var/lib/lvsprov), with its own sshd and host key, on one bridge with
# no address on the machine. The controller runs in namespace `bctl` on the same bridge, and one
# bastion (namespace `bjump`, 10.77.0.3, an sshd that only forwards) sits beside the hosts.
#   bench/fleet.sh up N | rtt MS | down | exec CMD...   (exec: run CMD in the controller namespace)
# 10.77.0.0/16 is routed to `unreachable` on the machine before anything starts.
set -euo pipefail
B=${BENCH_DIR:-/tmp/lvsbench}
guard=10.77.0.0/16
addr() { echo "10.77.$(( $1 / 200 + 1 )).$(( $1 % 200 + 10 ))"; }
BASTION=10.77.0.3

# sshd_conf KEY ADDRESS PID: the common part of every fleet sshd's config (host or bastion).
sshd_conf() {
  cat <<CONF
ListenAddress $2:22
HostKey $B/keys/$1
PidFile $B/run/sshd-$3.pid
AuthorizedKeysFile $B/authorized_keys
StrictModes no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
MaxStartups 300
LogLevel ERROR
CONF
}

# The bastion: a host of its own on the bridge, reached like the others (relay and all, under
# `rtt`), whose sshd opens the controller's channels to the hosts. Its links to the hosts carry no
# added delay: a bastion sits beside the fleet it guards.
bastion() {
  local ns=bjump
  [ -f "$B/keys/bastion" ] || ssh-keygen -q -t ed25519 -N '' -C bastion -f "$B/keys/bastion"
  echo "$BASTION $(cut -d' ' -f1,2 "$B/keys/bastion.pub")" >>"$B/known_hosts.new"
  if [ ! -e "/run/netns/$ns" ]; then
    ip netns add "$ns"
    ip -n bctl link add bvj type veth peer name eth0 netns "$ns"
    ip -n bctl link set bvj master lvsb0 up
    ip -n "$ns" addr add "$BASTION/16" dev eth0; ip -n "$ns" link set eth0 up; ip -n "$ns" link set lo up
  fi
  { sshd_conf bastion "$BASTION" bastion; echo "AllowTcpForwarding yes"; } >"$B/run/sshd-bastion.conf"
  # The pid file is sshd-bastion.pid, outside the hosts' sshd-K.pid pattern that reset and strace use.
  if [ -f "$B/run/sshd-bastion.pid" ] && kill -0 "$(cat "$B/run/sshd-bastion.pid")" 2>/dev/null; then return; fi
  ip netns exec "$ns" /usr/sbin/sshd -f "$B/run/sshd-bastion.conf"
}

up() {
  local n=$1 k
  ip route show type unreachable | grep -q "^unreachable $guard" || ip route add unreachable $guard
  mkdir -p "$B/run" "$B/keys" "$B/hosts" /run/sshd
  [ -f "$B/keys/client" ] || ssh-keygen -q -t ed25519 -N '' -C bench-client -f "$B/keys/client"
  cp "$B/keys/client.pub" "$B/authorized_keys"
  # The bridge lives inside the controller's namespace: no interface on the machine, and no
  # machine firewall (Docker's FORWARD DROP) between the controller and the hosts. Namespaces are
  # tested by their file, not `ip netns list | grep -q`: under pipefail grep's early exit fails
  # that pipe once a thousand names outgrow the pipe buffer, and `up` on a fleet that is up broke.
  if [ ! -e /run/netns/bctl ]; then
    ip netns add bctl
    ip -n bctl link set lo up
    ip -n bctl link add lvsb0 type bridge
    ip -n bctl addr add 10.77.0.1/16 dev lvsb0
    ip -n bctl link set lvsb0 up
  fi
  # One neighbour entry per host: past the kernel's default gc_thresh3 (1024 entries, and pruning
  # from 512) a thousand hosts get "No route to host" when their entry has been collected. The
  # thresholds exist only machine-wide: raised while the fleet is up, put back by `down`.
  if [ ! -f "$B/run/gc_thresh.orig" ] && [ "$(sysctl -n net.ipv4.neigh.default.gc_thresh3)" -lt 16384 ]; then
    sysctl -n net.ipv4.neigh.default.gc_thresh1 net.ipv4.neigh.default.gc_thresh2 net.ipv4.neigh.default.gc_thresh3 >"$B/run/gc_thresh.orig"
    sysctl -qw net.ipv4.neigh.default.gc_thresh1=4096 net.ipv4.neigh.default.gc_thresh2=8192 net.ipv4.neigh.default.gc_thresh3=16384
  fi
  : >"$B/known_hosts.new"
  for k in $(seq 1 "$n"); do
    local ns=bh$k ip; ip=$(addr "$k")
    [ -f "$B/keys/host$k" ] || ssh-keygen -q -t ed25519 -N '' -C "web$k" -f "$B/keys/host$k"
    echo "$ip $(cut -d' ' -f1,2 "$B/keys/host$k.pub")" >>"$B/known_hosts.new"
    if [ ! -e "/run/netns/$ns" ]; then
      ip netns add "$ns"
      ip -n bctl link add "bv$k" type veth peer name eth0 netns "$ns"
      ip -n bctl link set "bv$k" master lvsb0 up
      ip -n "$ns" addr add "$ip/16" dev eth0; ip -n "$ns" link set eth0 up; ip -n "$ns" link set lo up
    fi
    { sshd_conf "host$k" "$ip" "$k"; cat <<CONF; } >"$B/run/sshd-$k.conf"
SetEnv FLEET_ROOT=$B/hosts/web$k FLEET_K=$k SHLVL=1
Subsystem sftp /usr/lib/openssh/sftp-server
CONF
    if [ -f "$B/run/sshd-$k.pid" ] && kill -0 "$(cat "$B/run/sshd-$k.pid")" 2>/dev/null; then continue; fi
    # Own mount namespace: lvsprov's state folder and its lock (/run/lvsprov) are per host, like on
    # a real machine.
    ip netns exec "$ns" unshare --mount --propagation private sh -c \
      "mkdir -p /var/lib/lvsprov /run/lvsprov && mount -t tmpfs -o size=4m tmpfs /var/lib/lvsprov && mount -t tmpfs -o size=1m tmpfs /run/lvsprov && exec /usr/sbin/sshd -f $B/run/sshd-$k.conf"
  done
  bastion
  mv "$B/known_hosts.new" "$B/known_hosts"
  for k in $(seq 1 "$n"); do
    local ok=0
    for _ in $(seq 100); do ip netns exec bctl timeout 1 bash -c "exec 3<>/dev/tcp/$(addr "$k")/22" 2>/dev/null && { ok=1; break; }; sleep 0.05; done
    [ $ok = 1 ] || { echo "fleet: web$k ($(addr "$k")) does not answer ssh" >&2; exit 1; }
  done
  for _ in $(seq 100); do ip netns exec bctl timeout 1 bash -c "exec 3<>/dev/tcp/$BASTION/22" 2>/dev/null && break; sleep 0.05; done
  echo "fleet: $n hosts answer ssh ($(addr 1) .. $(addr "$n")), and the bastion $BASTION"
}

down() {
  local pf
  if [ -f "$B/run/gc_thresh.orig" ]; then
    local t=(); mapfile -t t <"$B/run/gc_thresh.orig"
    sysctl -qw net.ipv4.neigh.default.gc_thresh1="${t[0]}" net.ipv4.neigh.default.gc_thresh2="${t[1]}" net.ipv4.neigh.default.gc_thresh3="${t[2]}"
  fi
  for pf in "$B"/run/sshd-*.pid; do
    [ -f "$pf" ] || continue
    local pid; pid=$(cat "$pf")
    grep -q "$B/run/sshd-" "/proc/$pid/cmdline" 2>/dev/null && kill "$pid" 2>/dev/null || true
    rm -f "$pf"
  done
  for ns in $(ip netns list | awk '$1 ~ /^bh[0-9]+$/ || $1 == "bctl" || $1 == "bjump" {print $1}'); do ip netns del "$ns"; done
  # The guard stays: the fleet's range must never leave the machine, fleet up or not.
  rm -rf "$B"
  echo "fleet: down"
}

# A round trip of MS milliseconds on every connection the controller makes to a fleet host's
# sshd (this kernel has no netem): nftables in the controller's namespace redirects them to
# bench/delay-relay.py, which forwards after MS/2 each way. `rtt 0` takes the relay away.
rtt() {
  local ms=$1 pf="$B/run/relay.pid"
  if [ -f "$pf" ] && grep -q delay-relay "/proc/$(cat "$pf")/cmdline" 2>/dev/null; then kill "$(cat "$pf")"; fi
  rm -f "$pf"
  ip netns exec bctl nft delete table ip lvsbench_rtt 2>/dev/null || true
  [ "$ms" != 0 ] || { echo "fleet: no added round trip"; return; }
  ip netns exec bctl python3 "$(dirname "$0")/delay-relay.py" 7022 "$ms" "$B/run/relay.log" >"$B/run/relay.out" 2>&1 &
  echo $! >"$pf"
  for _ in $(seq 50); do ip netns exec bctl timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/7022' 2>/dev/null && break; sleep 0.1; done
  ip netns exec bctl nft -f - <<NFT
table ip lvsbench_rtt {
  chain output {
    type nat hook output priority -100; policy accept;
    meta mark 0x1e7 return
    ip daddr $guard tcp dport 22 redirect to :7022
  }
}
NFT
  echo "fleet: $ms ms round trip on every ssh connection from the controller (relay pid $(cat "$pf"))"
}

case "${1:-}" in
  up) up "${2:?N}" ;;
  down) rtt 0 >/dev/null 2>&1 || true; down ;;
  rtt) rtt "${2:?MS}" ;;
  exec) shift; exec ip netns exec bctl "$@" ;;
  addr) addr "${2:?K}" ;;
  *) echo "usage: bench/fleet.sh up N | rtt MS | down | exec CMD... | addr K" >&2; exit 3 ;;
esac
