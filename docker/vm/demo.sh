# The demo, inside the real-kernel lab's client: converge, prove the balance, take it down.
inv=inventories/lab.json
echo "=== lvsprov up"; lvsprov up $inv | tail -n 1
# keepalived's MASTER takes the VIP a few advert intervals after it starts.
for i in $(seq 60); do curl -s -m 1 -o /dev/null http://$lab_vip/ && break; sleep 0.5; done
echo "=== six requests to the VIP"; for i in 1 2 3 4 5 6; do curl -s http://$lab_vip/; done
echo "=== lvsprov verify"; lvsprov verify $inv
rc=$?
echo "=== lvsprov down"; lvsprov down $inv | tail -n 1
exit $rc
