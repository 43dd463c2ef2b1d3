#!/bin/sh
# A lab host's own SSH host key, made at its first boot and kept on its disk across reboots.
# ed25519 only: an RSA host key takes tens of seconds to make under software emulation.
exec ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
