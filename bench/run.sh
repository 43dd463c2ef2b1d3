#!/usr/bin/env bash
# lvsprov beside Ansible, pyinfra and the raw-SSH floor on the same fleet, in one run.
#   bench/run.sh [--rtt MS] N [RUNS]   (RUNS first/no-op pairs per tool, default 3; tools alternate)
#   --rtt MS: every ssh connection from the controller to a fleet host gets an MS round trip
#   (bench/delay-relay.py: this kernel has no netem), and the relay counts each tool's round trips.
#   BENCH_TOOLS="ssh-true floor lvsprov pyinfra ansible" (the default) selects any subset; the
#   `ssh true` floor is always measured, since every ratio is to it. `lvsprov-bastion` (not in the
#   default) is lvsprov through the fleet's one bastion (ssh.jump), with its ratio to lvsprov direct.
# Prints a markdown table: median wall s, controller CPU s (user+sys, children included), peak
# RSS of the controller, ratio to the `ssh true` floor of the same run. Checks that every first
# run made the changes on every host and that every no-op run wrote nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); repo=$(dirname "$here")
RTT=0
if [ "${1:-}" = --rtt ]; then RTT=${2:?usage: bench/run.sh [--rtt MS] N [RUNS]}; shift 2; fi
N=${1:?usage: bench/run.sh [--rtt MS] N [RUNS]}; RUNS=${2:-3}
B=/tmp/lvsbench; V=${BENCH_VENV:-/var/cache/lvsprov-bench/venv}
# The commit the figures are from, taken as the run starts (edits made while it runs are not in
# the binary it measures); a tree with uncommitted changes to what is measured is marked.
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" diff --quiet HEAD -- src playbooks Cargo.toml Cargo.lock bench 2>/dev/null || commit="$commit-dirty"
export LC_ALL=C.UTF-8
# A thousand hosts are a thousand sockets (and pipes, for the ssh floors) in one controller.
ulimit -n 65536 2>/dev/null || true

command -v /usr/bin/time >/dev/null || apt-get install -y -q time >/dev/null
if [ ! -x /usr/sbin/sshd ]; then
  # The fleet's sshd binary; installed with services held back, so no sshd starts on the machine.
  held=0; [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; held=1; }
  apt-get install -y -q openssh-server >/dev/null
  [ $held = 0 ] || rm -f /usr/sbin/policy-rc.d
fi
tools=(ssh-true)
for t in ${BENCH_TOOLS:-ssh-true floor lvsprov pyinfra ansible}; do
  case $t in
    ssh-true) ;;
    floor | lvsprov | lvsprov-bastion | pyinfra | ansible) tools+=("$t") ;;
    *) echo "bench: BENCH_TOOLS: unknown tool $t (known: ssh-true floor lvsprov lvsprov-bastion pyinfra ansible)" >&2; exit 2 ;;
  esac
done
peers=0; [[ " ${tools[*]} " == *" pyinfra "* || " ${tools[*]} " == *" ansible "* ]] && peers=1
if [ $peers = 1 ] && { [ ! -x "$V/bin/ansible-playbook" ] || [ ! -x "$V/bin/pyinfra" ]; }; then
  echo "bench: installing ansible-core and pyinfra in $V (PyPI)" >&2
  python3 -m venv "$V" && "$V/bin/pip" install -q 'ansible-core<2.20' 'pyinfra>=3,<4' >&2
fi
(cd "$repo" && cargo build --release --quiet)
LVS="$repo/target/release/lvsprov"

"$here/fleet.sh" down >/dev/null 2>&1 || true
trap '"$here/fleet.sh" down >/dev/null 2>&1' EXIT
"$here/fleet.sh" up "$N" >&2
"$here/fleet.sh" rtt "$RTT" >&2
"$here/gen-inventory.sh" "$N"
ssh_opts=(-T -o KexAlgorithms=curve25519-sha256 -i $B/keys/client -o BatchMode=yes -o UserKnownHostsFile=$B/known_hosts -o StrictHostKeyChecking=yes -o ControlMaster=no -o LogLevel=ERROR)
addr() { "$here/fleet.sh" addr "$1"; }

reset_hosts() {   # untimed: empty host roots, kernel defaults, no VIP, no lvsprov state
  local k
  rm -rf $B/hosts; for k in $(seq 1 "$N"); do
    mkdir -p $B/hosts/web$k/etc/sysctl.d $B/hosts/web$k/etc/sysconfig/network-scripts $B/hosts/web$k/var/www/html
    ip netns exec bh$k sh -c 'for f in /proc/sys/net/ipv4/conf/*/arp_ignore /proc/sys/net/ipv4/conf/*/arp_announce; do echo 0 > $f; done; ip addr del 10.77.0.5/32 dev lo 2>/dev/null; true'
    nsenter -t "$(cat $B/run/sshd-$k.pid)" -m sh -c 'rm -rf /var/lib/lvsprov/*'
  done
}

floor() {  # $1 = a|b|true; fails when any of the N ssh runs failed
  local k pids=() bad=0
  for k in $(seq 1 "$N"); do
    if [ "$1" = true ]; then ssh "${ssh_opts[@]}" root@"$(addr $k)" true </dev/null &
    else ssh "${ssh_opts[@]}" root@"$(addr $k)" "bash -s -- $B/hosts/web$k $k" <"$here/peers/floor/provision-$1.sh" >/dev/null & fi
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || bad=$((bad + 1)); done
  [ "$bad" = 0 ] || { echo "floor: $bad of $N ssh runs failed" >&2; return 1; }
}

run_tool() {  # tool workload  -> runs it once in the controller namespace
  case "$1" in
    ssh-true) floor true ;;
    floor) floor "$2" ;;
    lvsprov*)  # lvsprov[-bastion][-check]: `up` or `check`, direct or through the fleet's bastion
      local inv=$B/inventory.json cmd=up
      case $1 in *-bastion*) inv=$B/inventory-bastion.json ;; esac
      case $1 in *-check) cmd=check ;; esac
      "$LVS" $cmd "$inv" --limit real_servers --playbooks "$here/workload-$2" --output json >$B/last.json 2>$B/last.err || { [ $? = 2 ] && [ $cmd = check ]; } ;;
    ansible) ANSIBLE_CONFIG=$here/peers/ansible/ansible.cfg ANSIBLE_SSH_CONTROL_PATH_DIR=$(mktemp -d /tmp/ans-cp.XXXXXX) \
               "$V/bin/ansible-playbook" -i $B/ansible-hosts.ini -f "$N" "$here/peers/ansible/site-$2.yml" >$B/last.out ;;
    pyinfra) (cd $B && "$V/bin/pyinfra" -y --parallel "$N" pyinfra_inventory.py "$here/peers/pyinfra/deploy_$2.py" >$B/last.out 2>&1) ;;
  esac
}
export -f run_tool floor addr
export LVS B N V here ssh_opts_str="${ssh_opts[*]}"

timed() {  # prints: wall cpu maxrss_kib, or FAILED: a failed run's time is never a figure
  local out; out=$(mktemp)
  if ip netns exec bctl /usr/bin/time -f '%e %U %S %M' -o "$out" bash -c "ssh_opts=(\$ssh_opts_str); $(declare -f run_tool floor addr); run_tool $*"; then
    awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$out"
  else
    echo FAILED
    # Kept for the post-mortem: the fleet (and $B) goes away with the run.
    mkdir -p /tmp/lvsbench-failed && cp -f $B/last.* /tmp/lvsbench-failed/ 2>/dev/null || true
    # The progress lines of hosts that went through are noise; what failed is the news.
    { echo "bench: $* failed"; tail -n 5 $B/last.out 2>/dev/null; grep -vE ': (changed|unchanged|ok)$' $B/last.err 2>/dev/null | tail -n 20; } >&2
  fi
  rm -f "$out"
}

measure() {  # tool workload label -> records wall, cpu, rss (and, through the relay, round trips and
  # connections per host) under "workload tool label"; exits on a failed run
  local wall cpu rss
  [ "$RTT" = 0 ] || : >$B/run/relay.log
  read -r wall cpu rss < <(timed "$1" "$2")
  [ "$wall" != FAILED ] || { echo "bench: stopping, $1 failed in workload $2 ($3); no figure is recorded from a failed run" >&2; exit 1; }
  record "$2 $4 $3 wall" "$wall"; record "$2 $4 $3 cpu" "$cpu"; record "$2 $4 $3 rss" "$rss"
  if [ "$RTT" != 0 ]; then
    sleep 0.5  # the relay logs a connection when both its sides have closed
    record "$2 $4 $3 trips" "$(awk -v n="$N" '{t += $2} END {printf "%.1f", t / n}' $B/run/relay.log)"
    record "$2 $4 $3 conns" "$(awk -v n="$N" 'END {printf "%.1f", NR / n}' $B/run/relay.log)"
  fi
}

check_state() {  # workload -> number of hosts in the wanted state
  local w=$1 k ok=0
  for k in $(seq 1 "$N"); do
    local r=$B/hosts/web$k
    if [ "$w" = a ]; then
      [ "$(cat $r/etc/hostname 2>/dev/null)" = "web$k" ] && grep -qxF "<h1>this is web$k</h1>" $r/var/www/html/index.html 2>/dev/null \
        && [ "$(grep -cxF -- '-A -t 192.168.10.100:80 -s rr' $r/etc/ipvsadm.rules 2>/dev/null)" = 1 ] && [ -d $r/opt/lvs ] && ok=$((ok+1))
    else
      [ "$(ip netns exec bh$k sysctl -n net.ipv4.conf.eth0.arp_announce)" = 2 ] && ip netns exec bh$k ip -4 addr show dev lo | grep -q ' 10.77.0.5/32 ' \
        && grep -qxF "<h1>this is web$k</h1>" $r/var/www/html/index.html 2>/dev/null && ok=$((ok+1))
    fi
  done
  echo $ok
}

declare -A res
record() { res["$1"]+="$2;"; }
median() { tr ';' '\n' | awk 'NF' | sort -n | awk '{a[NR]=$1} END{if (NR == 0) print ""; else print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for w in a b; do
  for rep in $(seq 1 "$RUNS"); do
    # alternate the order between repetitions
    order=("${tools[@]}"); [ $((rep % 2)) = 0 ] && order=($(printf '%s\n' "${tools[@]}" | tac))
    for t in "${order[@]}"; do
      reset_hosts
      measure "$t" "$w" first "$t"
      [ "$t" = ssh-true ] && continue
      got=$(check_state "$w"); [ "$got" = "$N" ] || { echo "bench: $t left $got/$N hosts right in workload $w" >&2; exit 1; }
      touch $B/stamp; sleep 1
      measure "$t" "$w" noop "$t"   # the same command again: lvsprov's `up` on a converged fleet
      written=$(find $B/hosts -newer $B/stamp | wc -l)
      [ "$written" = 0 ] || { echo "bench: the no-op run of $t wrote $written files" >&2; exit 1; }
      if [ "$t" = lvsprov ] || [ "$t" = lvsprov-bastion ]; then
        [ "$(python3 -c "import json;print(json.load(open('$B/last.json'))['summary']['changes'])")" = 0 ] || { echo "bench: $t's no-op run reported changes" >&2; exit 1; }
        measure "$t-check" "$w" noop "$t-check"
      fi
    done
  done
done

floor_wall=$(echo "${res[a ssh-true first wall]}" | median)
# Every run's medians also go to bench/results.tsv (a tree with uncommitted changes is marked so),
# from which bench/plot.py redraws docs/bench-wall.svg at the end.
results=${BENCH_RESULTS:-$here/results.tsv}
[ -s "$results" ] || printf 'commit\tdate\tn\trtt_ms\truns\tworkload\ttool\tfirst_wall\tnoop_wall\tfirst_cpu\tnoop_cpu\n' >"$results"
rtt_note=""; [ "$RTT" = 0 ] || rtt_note=", $RTT ms round trip"
echo "### N = $N$rtt_note ($RUNS runs each, medians; ssh true floor $floor_wall s)"
echo
echo "| workload | tool | first wall s | first cpu s | no-op wall s | no-op cpu s | cpu ms / host (first, no-op) | peak RSS MiB | first / floor | no-op / floor | round trips / host (first, no-op) | connections / host |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for w in a b; do
  for t in ssh-true floor lvsprov lvsprov-check lvsprov-bastion lvsprov-bastion-check pyinfra ansible; do
    [ -n "${res[$w $t noop wall]:-}${res[$w $t first wall]:-}" ] || continue
    fw=$(echo "${res[$w $t first wall]:-}" | median); fc=$(echo "${res[$w $t first cpu]:-}" | median)
    nw=$(echo "${res[$w $t noop wall]:-}" | median); nc=$(echo "${res[$w $t noop cpu]:-}" | median)
    rss=$(printf '%s' "${res[$w $t first rss]:-}${res[$w $t noop rss]:-}" | tr ';' '\n' | awk 'NF' | sort -n | tail -n 1)
    ft=$(echo "${res[$w $t first trips]:-}" | median); nt=$(echo "${res[$w $t noop trips]:-}" | median)
    cn=$(echo "${res[$w $t noop conns]:-}${res[$w $t first conns]:-}" | median)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$commit" "$(date -u +%F)" "$N" "$RTT" "$RUNS" "$w" "$t" \
      "${fw:--}" "${nw:--}" "${fc:--}" "${nc:--}" >>"$results"
    name=$t; [ $t = floor ] && name="bash floor (1 ssh + 1 script)"; [ $t = lvsprov ] && name="lvsprov up"; [ $t = lvsprov-check ] && name="lvsprov check"
    [ $t = lvsprov-bastion ] && name="lvsprov up via bastion"; [ $t = lvsprov-bastion-check ] && name="lvsprov check via bastion"
    awk -v w=$w -v n="$name" -v fw="$fw" -v fc="$fc" -v nw="$nw" -v nc="$nc" -v r="$rss" -v fl="$floor_wall" -v N="$N" \
        -v ft="$ft" -v nt="$nt" -v cn="$cn" 'BEGIN{
      f = (fw == "" ? "-" : fw); fcs = (fc == "" ? "-" : fc);
      per = (fc == "" ? "-" : sprintf("%.1f", fc * 1000 / N)) ", " (nc == "" ? "-" : sprintf("%.1f", nc * 1000 / N));
      trips = (ft == "" && nt == "") ? "-" : ((ft == "" ? "-" : ft) ", " (nt == "" ? "-" : nt));
      printf "| %s | %s | %s | %s | %s | %s | %s | %.1f | %s | %s | %s | %s |\n", toupper(w), n, f, fcs, (nw==""?"-":nw), (nc==""?"-":nc), per, r/1024,
        (fw==""?"-":sprintf("%.2fx", fw/fl)), (nw==""?"-":sprintf("%.2fx", nw/fl)), trips, (cn == "" ? "-" : cn) }'
  done
done
if [[ " ${tools[*]} " == *" lvsprov-bastion "* && " ${tools[*]} " == *" lvsprov "* ]]; then
  echo
  for w in a b; do
    r() { awk -v b="$(echo "${res[$w $1 $2 wall]:-}" | median)" -v d="$(echo "${res[$w $3 $2 wall]:-}" | median)" 'BEGIN{printf "%.2fx", b / d}'; }
    echo "- ${w^^}, via one bastion / direct: first up $(r lvsprov-bastion first lvsprov), no-op up $(r lvsprov-bastion noop lvsprov), no-op check $(r lvsprov-bastion-check noop lvsprov-check)"
  done
fi
python3 "$here/plot.py" "$results" "$repo/docs/bench-wall.svg" && echo "bench: docs/bench-wall.svg redrawn from $results" >&2
