# Workload B: the real-server role (apache already installed): ARP sysctls live and persisted,
# the VIP on lo /32 (no pyinfra operation for addresses: a check fact, then a shell step), the page.
from io import StringIO

from pyinfra import host
from pyinfra.facts.server import Command
from pyinfra.operations import files, server

R = host.data.root
K = host.data.k
VIP = "10.77.0.5"
KEYS = [
    ("net.ipv4.conf.all.arp_ignore", 1), ("net.ipv4.conf.all.arp_announce", 2),
    ("net.ipv4.conf.lo.arp_ignore", 1), ("net.ipv4.conf.lo.arp_announce", 2),
    ("net.ipv4.conf.eth0.arp_ignore", 1), ("net.ipv4.conf.eth0.arp_announce", 2),
]
for key, value in KEYS:
    server.sysctl(name=f"sysctl {key}", key=key, value=value)
files.put(name="ARP sysctls persisted", src=StringIO("".join(f"{k} = {v}\n" for k, v in KEYS)),
          dest=f"{R}/etc/sysctl.d/90-lvsprov.conf")
state = host.get_fact(Command, f"ip -4 addr show dev lo | grep -q ' {VIP}/32 ' && echo present || echo absent")
if state != "present":
    server.shell(name="VIP on lo /32", commands=[f"ip addr add {VIP}/32 dev lo label lo:0"])
files.put(name="index page", src=StringIO(f"<h1>this is web{K}</h1>\n"), dest=f"{R}/var/www/html/index.html")
