#!/bin/bash
# PID 1 of one lab host inside the VM (its own PID namespace): own host keys, sshd, and reaping
# whatever services lvsprov starts (bash reaps orphans it inherits).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# ed25519 only: an RSA host key takes tens of seconds to make under software emulation.
[ -s /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
mkdir -p /run/sshd /run/lock  # a fresh /run, as systemd-tmpfiles would leave it
/usr/sbin/sshd -o PidFile=/run/sshd.pid -o HostKey=/etc/ssh/ssh_host_ed25519_key
trap 'exit 0' TERM
while :; do sleep 3600 & wait $!; done
