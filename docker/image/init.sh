#!/bin/bash
# PID 2 of every lab host (docker-init is PID 1 and reaps what services leave behind).
# Makes the container behave like a server where a container allows it, then runs sshd.
set -e
# docker mounts /proc/sys read-only; lvsprov must be able to set net.* sysctls like on a real host.
mount -o remount,rw /proc/sys 2>/dev/null || true
[ -e /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -A >/dev/null
for home in /root /home/deploy /home/ops; do
  mkdir -p "$home/.ssh"
  cp /lab/authorized_keys "$home/.ssh/authorized_keys"
  chmod 700 "$home/.ssh"; chmod 600 "$home/.ssh/authorized_keys"
done
chown -R deploy:deploy /home/deploy/.ssh
chown -R ops:ops /home/ops/.ssh
if [ "${LAB_ROLE:-}" = client ]; then
  for k in id_ed25519 id_rsa id_ed25519_enc; do cp /lab/$k /root/.ssh/$k; chmod 600 /root/.ssh/$k; done
  [ -f /lab/known_hosts ] && cp /lab/known_hosts /root/.ssh/known_hosts
fi
mkdir -p /run/sshd
exec /usr/sbin/sshd -D -e
