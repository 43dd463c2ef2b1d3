# What every request of tests/vm.rs can call, in the real-kernel lab's client (sourced first).
. /work/lab/topology.sh   # hosts, addr[], lab_vip: the lab's one address table
export PATH=/work/bin:$PATH HOME=/root NO_COLOR=1
inv=inventories/lab.json
# Under software emulation one SSH login costs 2-3 s of CPU, several times that when the machine is
# busy: one CI run saw all four logins of an `up` pass the default 10 s. The connect timeout is
# proven in the container lab at its default; here every call gets 60 s.
lvsprov() { command lvsprov "$@" --connect-timeout 60; }
# The tests' own commands on hosts share one SSH connection per host (a login costs 2-3 s of
# emulated CPU; a command on an open connection a fraction of that). lvsprov makes its own.
# OpenSSH's default key exchange (sntrup761x25519) doubles a login's cost under emulation
# (measured in the VM: 5 logins 19.5 s, 9.2 s with curve25519-sha256, which lvsprov uses too).
ssh_() { ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o KexAlgorithms=curve25519-sha256 -o ControlMaster=auto -o ControlPath=/tmp/mux-%h \
  -o ControlPersist=900 -o ServerAliveInterval=2 -o ServerAliveCountMax=3 "$@"; }
# A host that reboots takes its connection with it: after `lab`, every shared connection is closed.
lab() { command lab "$@"; local rc=$? f; for f in /tmp/mux-*; do [ -e "$f" ] && ssh -o ControlPath="$f" -O exit x 2>/dev/null; done; return $rc; }
on() { local h=$1; shift; ssh_ root@${addr[$h]} "$@"; }
# keepalived's MASTER waits a few advert intervals before it takes the VIP.
wait_vip() { local i; for i in $(seq $((${1:-30} * 2))); do curl -s -m 1 -o /dev/null http://$lab_vip/ && return 0; sleep 0.5; done
  echo "the VIP did not answer in ${1:-30} s" >&2; return 1; }
# The directors holding the VIP now (as keepalived adds it: /32 on eth0), e.g. "lvs01 " (none: "").
# Polls like this one match in bash itself: under emulation every process costs (an `on` about
# 130 ms of CPU, `ip` 90 ms, a grep or sort 20-40 ms), and a story polls while a host reboots.
holders() { local d; for d in lvs01 lvs02; do [[ $(on $d ip -4 -o addr show dev eth0) == *" $lab_vip/32 "* ]] && echo -n "$d "; done; }
# Until COUNT of the directors' IPVS tables list real server HOST with weight W (a regex; "" for
# listed at all; COUNT 0: listed by none), for at most SECS: prints how long it took.
wait_table() { # HOST COUNT SECS [W]
  local t0=$(date +%s.%N) i n d
  for i in $(seq $(($3 * 2))); do
    n=0; for d in lvs01 lvs02; do on $d ipvsadm -Ln | grep -qE -- "-> ${addr[$1]}:[0-9]+ +Route +${4:-[0-9]+} " && n=$((n+1)); done
    [ $n = $2 ] && { echo "$1_in_tables=$2 after_s=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}")"; return 0; }
    sleep 0.5
  done
  echo "$1 not in $2 directors' tables after $3 s:" >&2; for d in lvs01 lvs02; do on $d ipvsadm -Ln >&2; done; return 1
}
# Sessions that end without their director seeing it: two connections through the VIP that
# began a request (apache accepts a connection once it has data) and wait (round robin: one
# each), then web01 resets its one (in DR the reset goes from web01 straight
# to the client). The directors keep web01's entry ESTABLISHED until its TCP timeout (2 h), so the
# ghosts use source ports outside the client's ephemeral range (no later connection reuses them).
# Prints the ActiveConn the directors show for web01, and the sessions web01 itself still has open.
ghost_on_web01() { local p; rm -f /tmp/ghost.pids; for p in 20001 20002; do
    setsid bash -c "(printf 'GET / HTTP/1.1\r\n'; sleep 120) | curl -s --local-port $p telnet://$lab_vip:80" </dev/null >/dev/null 2>&1 &
    echo $! >>/tmp/ghost.pids; done; sleep 1
  on web01 "ss -K state established '( sport = :80 )' >/dev/null"; kill -- $(sed 's/^/-/' /tmp/ghost.pids); rm /tmp/ghost.pids; sleep 1
  echo "directors_active=$(for d in lvs01 lvs02; do on $d ipvsadm -Ln; done | awk -v a="${addr[web01]}:80" '$2 == a { n += $5 } END { print n + 0 }')" \
    "web01_sessions=$(on web01 "ss -Htn state established '( sport = :80 )'" | wc -l)"; }
# Steady requests through the VIP in the background, one line per request: "SECONDS HTTP_CODE
# CURL_EXIT DURATION" (SECONDS: when it ended).
# A request fails when it is refused, reset, or unanswered for 3 s (1 s failed requests that a
# busy emulated machine answered late).
# One curl makes them all, one at a time, ten a second at most, each on a new connection (the
# server closes it): a curl per request cost about 150 ms of the VM's emulated CPU, most of the
# two vCPUs at ten a second, and slowed every command a story timed beside it. curl goes on after
# a failed request. bash stamps each line as it comes (stdbuf: curl's output is a pipe).
# The loop stands for clients with CPUs of their own: under emulation it shares two vCPUs with
# every host, so it runs before them (nice -10).
load_start() { setsid nice -n -10 bash -c 'stdbuf -oL curl -s -m 3 -o /dev/null -H "Connection: close" --rate 10/s -w "%{http_code} %{exitcode} %{time_total}\n" "http://'$lab_vip'/?[1-1000000]" | while IFS= read -r l; do echo "$EPOCHREALTIME $l"; done' >/tmp/load.out 2>&1 </dev/null &
  echo $! >/tmp/load.pid; }
# requests, failed ones, the longest time between two answered requests and from the first
# request to the last (ms), and when each failed one began and ended (epoch seconds) with its HTTP
# code (000: none) and curl's exit code (7 refused, 28 timed out, 52/55/56 reset...): START-END:HTTP/EXIT.
load_stop() { kill -- -"$(cat /tmp/load.pid)"; rm /tmp/load.pid; sleep 0.2
  awk '{ n++; if (!first) first = $1; end = $1; if ($2 != 200) { f++; at = at sprintf(" %.2f-%.2f:%s/%s", $1 - $4, $1, $2, $3) } else { if (last) { g = ($1 - last) * 1000; if (g > gap) gap = g }; last = $1 } }
       END { printf "requests=%d failed=%d longest_gap_ms=%d span_ms=%d failed_at:%s\n", n, f, gap, (end - first) * 1000, at }' /tmp/load.out; }
# Each director's ESTABLISHED connections from a client port in the ephemeral range (the drain
# story's ghosts use 20001/20002), one "DIRECTOR CLIENT:PORT" line each.
established() { local d; for d in lvs01 lvs02; do on $d ipvsadm -Lnc | awk -v d=$d '$3 == "ESTABLISHED" { split($4, a, ":"); if (a[2] >= 32768) print d, $4 }'; done; }
# Until no director holds such a connection, for at most SECS (0: one look), leaving out those
# that BEFORE (a file of `established`'s lines) lists: a story before may have left one (a request
# whose handshake and end went to different directors at a VIP move stays ESTABLISHED on the first
# for the TCP timeout). Prints each director's count at the end; on stderr, each one left and
# what every director holds for its client end (a red run shows whether the other one saw it end).
no_established() { local i d n l; for i in $(seq 0 $(($1 * 2))); do
    l=$(established | grep -vxF -f ${2:-/dev/null}); n=""; for d in lvs01 lvs02; do n="$n $d=$(printf '%s\n' "$l" | grep -c "^$d ")"; done
    case "$n" in *=[1-9]*) sleep 0.5 ;; *) break ;; esac; done; echo "established:$n"
  local c; for c in $(printf '%s\n' "$l" | cut -s -d' ' -f2 | sort -u); do echo "left ESTABLISHED from $c:"
    for d in lvs01 lvs02; do on $d ipvsadm -Lnc | grep -F " $c " | sed "s/^/  $d /"; done; done >&2; }
# HOST's own nftables ruleset, as a short hash.
ruleset() { on $1 'nft list ruleset 2>/dev/null | md5sum | cut -c1-12'; }
# Every LVS host's, one "HOST=HASH" line each.
rulesets() { local h; for h in lvs01 lvs02 web01 web02; do echo "$h=$(ruleset $h)"; done; }
# Each director's live keepalived.conf, as md5sum prints it.
confs() { local d; for d in lvs01 lvs02; do on $d md5sum /etc/keepalived/keepalived.conf; done; }
# Each director's IPVS tuning: expire_nodest_conn expire_quiescent_template conn_reuse_mode, timeouts.
tuning() { local d; for d in lvs01 lvs02; do on $d 'echo "$(hostname): $(sysctl -n net.ipv4.vs.expire_nodest_conn net.ipv4.vs.expire_quiescent_template net.ipv4.vs.conn_reuse_mode | tr "\n" " ")$(ipvsadm -L --timeout)"'; done; }
# N clients mid-session through the VIP in the background, answers in /tmp/clients-*.out:
# 60 keep-alive requests each (or the second argument's count; the third: curl's time limit, 120 s), 2 a second, so each holds one connection for about 30 s: longer
# than a drain's converge of both directors takes under emulation (up to 20 s seen), so the
# drain's wait always finds them (apache ends a keep-alive connection after 100 requests).
clients_start() { rm -f /tmp/clients-*.out; local i; for i in $(seq $1); do
  setsid bash -c "curl -s -o /dev/null -m ${3:-120} --rate 2/s $(for j in $(seq ${2:-60}); do printf 'http://%s/ ' $lab_vip; done) -w '%{http_code}\n'; echo rc=\$?" >/tmp/clients-$i.out 2>&1 </dev/null &
  echo $! >>/tmp/clients.pids; done; }
# When a director's keepalived entered MASTER (epoch seconds, journald's clock: the hosts share the
# VM's) since epoch SECONDS: "masters=lvs02@T,lvs01@T" in time order (one VIP, one VRRP instance).
masters_since() { local d; echo "masters=$(for d in lvs01 lvs02; do on $d "journalctl -u keepalived -o short-unix --no-pager --since @${1%.*}" | awk -v d=$d -v t0=$1 '/Entering MASTER STATE/ && $1 >= t0 { print $1, d }'; done | sort -n | awk '{ printf "%s%s@%s", (NR > 1 ? "," : ""), $2, $1 }')"; }
# How many of the clients whose PIDs PIDFILE lists still run (the session stories: they must
# outlast a director's return, so that the move back is proven too).
alive() { local p; for p in $(cat $1); do kill -0 $p 2>/dev/null && echo; done | wc -l; }
# Waits for them: answered requests (200) and each client's curl exit code.
clients_wait() { local p; for p in $(cat /tmp/clients.pids); do while kill -0 $p 2>/dev/null; do sleep 0.5; done; done; rm /tmp/clients.pids
  echo "answered=$(cat /tmp/clients-*.out | grep -c '^200$') clients_ok=$(cat /tmp/clients-*.out | grep -c '^rc=0$')"; }
# HOST loses power as its peers see it: its NIC goes dark first, then every process dies. The
# lab's power cut alone kills the processes, and the kernel then closes their sockets with a FIN
# or RST that a real dead machine never sends: a router's BGP session with it ended at once,
# and BFD or the hold time were never what noticed.
dark_power_cut() { on $1 'setsid sh -c "sleep 0.3; ip link set eth0 down" </dev/null >/dev/null 2>&1 &'; sleep 1; lab reboot --power-cut $1; }
# ECMP (inventories/lab-ecmp.json): the client reaches the VIP through the lab's router, as an
# ECMP cluster's clients do (`direct`: on the segment again, for the VRRP stories).
via_router() { ip route replace $lab_vip/32 via ${addr[rtr01]}; }
direct() { ip route del $lab_vip/32 2>/dev/null; true; }
# The directors the router sends the VIP's flows to (its kernel's next hops), sorted.
paths() { on rtr01 ip route show $lab_vip | grep -o 'via [0-9.]*' | cut -d' ' -f2 | sort | tr '\n' ' '; }
# Until the router has N next hops for the VIP, for at most SECS: prints how long it took.
wait_paths() { # N SECS
  local t0=$(date +%s.%N) i p hops
  for i in $(seq $(($2 * 2))); do
    p=$(paths); read -ra hops <<<"$p"; [ ${#hops[@]} = $1 ] && { echo "paths=$1 ($p) after_s=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}")"; return 0; }
    sleep 0.5
  done
  echo "the router has next hops '$(paths)' for the VIP after $2 s, not $1" >&2; return 1
}
# COUNT new connections through the VIP, one at a time (one curl for all: a process per request
# cost about 30 s of emulated CPU for 200; the server closes each, so each is a new connection,
# and a reused one would show as a port found twice): prints failed=N; per director, how many
# of them its IPVS connection table holds, each found by the client port curl used (the entries
# stay 2 min after the close; ECMP runs no connection sync); both=N of them in both tables (a flow
# that reached both directors: the second one picks it up with sloppy_tcp); found=N in
# either. Not the directors' counters: IPVS's estimator sums them late under emulation, and they
# count a moved flow twice without saying so.
split() { # COUNT
  local f d; : >/tmp/split.ports
  curl -s -m 3 -H 'Connection: close' -w '%{local_port} %{http_code}\n' $(for i in $(seq $1); do printf -- '-o /dev/null http://%s/ ' $lab_vip; done) >/tmp/split.out
  f=$(awk '$2 != 200' /tmp/split.out | wc -l); cut -d' ' -f1 /tmp/split.out >/tmp/split.ports
  for d in lvs01 lvs02; do
    on $d ipvsadm -Lnc | awk -v c="${addr[client]}" -v v="$lab_vip:80" \
      'NR == FNR { p[$1] = 1; next } { split($4, s, ":") } s[1] == c && $5 == v && (s[2] in p) { print s[2] }' /tmp/split.ports - | sort -u >/tmp/split.$d
  done
  echo "failed=$f lvs01=$(wc -l </tmp/split.lvs01) lvs02=$(wc -l </tmp/split.lvs02) both=$(comm -12 /tmp/split.lvs01 /tmp/split.lvs02 | wc -l) found=$(sort -u /tmp/split.lvs01 /tmp/split.lvs02 | wc -l)"; }
# While DIRECTOR's drain is in its graceful shutdown: until the router holds DIRECTOR's route for
# the VIP with the graceful-shutdown community (65535,0) and has left it out of the VIP's next
# hops, for at most SECS. Prints "graceful_paths=HOPS" (the next hops then) or fails.
graceful_seen() { # DIRECTOR SECS
  local i
  for i in $(seq $(($2 * 2))); do
    if on rtr01 "birdc show route $lab_vip/32 protocol $1 all" | grep -q 'community:.*(65535,0)' &&
       [ "$(paths)" = "$(for d in lvs01 lvs02; do [ $d = $1 ] || echo "${addr[$d]}"; done | sort | tr '\n' ' ')" ]; then
      echo "graceful_paths=$(paths)"; return 0
    fi
    sleep 0.5
  done
  echo "the router never held $1's route with community (65535,0) and without it in its next hops in $2 s: $(on rtr01 birdc show route $lab_vip/32 all)" >&2; return 1
}
