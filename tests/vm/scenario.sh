# Runs inside the real-kernel lab's client (docker/vm/run). Each step prints a block that
# tests/vm.rs reads:  @@begin NAME / lvsprov's JSON / @@rc CODE
inv=inventories/lab.json
step() { local name=$1; shift; echo "@@begin $name"; "$@"; echo "@@rc $?"; }
ssh_() { ssh -o BatchMode=yes -o StrictHostKeyChecking=yes "$@"; }
# keepalived's MASTER waits a few advert intervals before it takes the VIP.
wait_vip() { for i in $(seq 60); do curl -s -m 1 -o /dev/null http://$lab_vip/ && return 0; sleep 0.5; done; return 1; }
# keepalived's health check (delay_loop 6) must see a change before the table reflects it.
settle() { sleep "${1:-9}"; }

step up lvsprov up $inv --output json
wait_vip
step up-again lvsprov up $inv --output json
step verify lvsprov verify $inv --requests 20 --output json
echo "@@begin sequence"; for i in 1 2 3 4 5 6; do curl -s -m 2 http://$lab_vip/; done; echo "@@rc 0"

ssh_ root@${addr[web01]} 'service apache2 stop' >/dev/null 2>&1
settle
step verify-web01-down lvsprov verify $inv --requests 10 --output json
ssh_ root@${addr[web01]} 'service apache2 start' >/dev/null 2>&1
settle
step verify-web01-back lvsprov verify $inv --requests 10 --output json

step failover lvsprov verify $inv --requests 10 --failover --output json
wait_vip

# The same failover without IPVS connection sync: established sessions must break (so the
# measurement above can tell), then sync back on.
sed 's/"advert_int": 1 }/"advert_int": 1, "sync": { "enabled": false } }/' $inv > /tmp/nosync.json
step up-nosync lvsprov up /tmp/nosync.json --limit directors --output json
wait_vip; sleep 3
step failover-nosync lvsprov verify /tmp/nosync.json --requests 4 --failover --output json
wait_vip
step up-sync lvsprov up $inv --limit directors --output json
wait_vip

# Clients mid-session while web01 is drained: drain waits for their connections to end, and not
# one of their requests fails.
pids=""
for i in 1 2 3 4; do
  (curl -s -o /dev/null -m 30 --rate 10/s $(for j in $(seq 50); do echo http://$lab_vip/; done) -w '%{http_code}\n' >/tmp/drain-curl-$i.out 2>&1; echo "rc=$?" >>/tmp/drain-curl-$i.out) &
  pids="$pids $!"
done
sleep 1
step drain lvsprov drain web01 $inv --output json
wait $pids
echo "@@begin drain-clients"; cat /tmp/drain-curl-*.out | grep -c '^200$'; grep -h '^rc=' /tmp/drain-curl-*.out; echo "@@rc 0"
settle 2
step verify-drained lvsprov verify $inv --requests 20 --output json
step undrain lvsprov undrain web01 $inv --output json
settle 2
step verify-undrained lvsprov verify $inv --requests 20 --output json

step down lvsprov down $inv --output json
echo "@@begin leftovers"
for h in lvs01 lvs02 web01 web02; do ip=${addr[$h]}
  ssh_ root@$ip "vip=$lab_vip; "'echo "$(hostname): vip=$(ip -4 -o addr | grep -c $vip) keepalived=$(pidof keepalived | wc -w) ipvs=$(ipvsadm -Ln 2>/dev/null | grep -c $vip) state=$(ls /var/lib/lvsprov 2>/dev/null | wc -l) arp_ignore=$(sysctl -n net.ipv4.conf.all.arp_ignore) send_redirects=$(sysctl -n net.ipv4.conf.all.send_redirects)"'
done
echo "@@rc 0"
