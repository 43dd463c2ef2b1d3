# Workload B by hand, one script per host (the floor): runs via `bash -s -- ROOT K`, prints changed=X
R=$1; K=$2; c=0; VIP=10.77.0.5
for kv in all.arp_ignore=1 all.arp_announce=2 lo.arp_ignore=1 lo.arp_announce=2 eth0.arp_ignore=1 eth0.arp_announce=2; do
  k=net.ipv4.conf.${kv%=*}; v=${kv#*=}
  [ "$(sysctl -n $k)" = "$v" ] || { sysctl -qw $k=$v; c=$((c+1)); }
done
want=$(printf '%s\n' net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce net.ipv4.conf.lo.arp_ignore net.ipv4.conf.lo.arp_announce net.ipv4.conf.eth0.arp_ignore net.ipv4.conf.eth0.arp_announce | paste -d' ' - <(printf '= %s\n' 1 2 1 2 1 2))
printf '%s\n' "$want" | cmp -s - "$R/etc/sysctl.d/90-lvsprov.conf" || { printf '%s\n' "$want" > "$R/etc/sysctl.d/90-lvsprov.conf"; c=$((c+1)); }
ip -4 addr show dev lo | grep -q " $VIP/32 " || { ip addr add $VIP/32 dev lo label lo:0; c=$((c+1)); }
printf '<h1>this is web%s</h1>\n' "$K" | cmp -s - "$R/var/www/html/index.html" || { printf '<h1>this is web%s</h1>\n' "$K" > "$R/var/www/html/index.html"; c=$((c+1)); }
echo "changed=$c"
