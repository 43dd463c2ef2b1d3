#!/usr/bin/env bash
# The fleet as an lvsprov inventory (N real servers web1..webN; one director that is never targeted,
# because an inventory needs one), the same through the fleet's bastion (inventory-bastion.json),
# and as Ansible and pyinfra inventories.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N=${1:?N}; B=${BENCH_DIR:-/tmp/lvsbench}
python3 - "$N" "$B" <<'PY'
import json, sys
n, b = int(sys.argv[1]), sys.argv[2]
addr = lambda k: f"10.77.{k // 200 + 1}.{k % 200 + 10}"
inv = {
  "network": "10.77.0.0/16",
  "ssh": {"user": "root", "identity_file": f"{b}/keys/client", "known_hosts": f"{b}/known_hosts"},
  "directors": [{"name": "lvs1", "address": "10.77.0.2"}],
  "real_servers": [{"name": f"web{k}", "address": addr(k), "page": f"<h1>this is web{k}</h1>"} for k in range(1, n + 1)],
  "services": [{"vip": "10.77.0.5", "port": 80, "real_servers": [{"name": f"web{k}"} for k in range(1, n + 1)]}],
}
json.dump(inv, open(f"{b}/inventory.json", "w"), indent=1)
inv["ssh"]["jump"] = "root@10.77.0.3"
json.dump(inv, open(f"{b}/inventory-bastion.json", "w"), indent=1)
with open(f"{b}/ansible-hosts.ini", "w") as f:
    f.write("[fleet]\n")
    for k in range(1, n + 1):
        f.write(f"web{k} ansible_host={addr(k)} k={k} root={b}/hosts/web{k}\n")
    f.write(f"\n[fleet:vars]\nansible_user=root\nansible_ssh_private_key_file={b}/keys/client\n")
with open(f"{b}/pyinfra_inventory.py", "w") as f:
    hosts = [(f"web{k}", {"ssh_hostname": addr(k), "k": k, "root": f"{b}/hosts/web{k}"}) for k in range(1, n + 1)]
    f.write("fleet = (%r, %r)\n" % (hosts, {"ssh_user": "root", "ssh_key": f"{b}/keys/client",
        "ssh_known_hosts_file": f"{b}/known_hosts", "ssh_strict_host_key_checking": "yes"}))
PY
