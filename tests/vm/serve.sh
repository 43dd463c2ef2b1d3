# Runs in the real-kernel lab's client (docker/vm/run with VM_CONTROL): answers tests/vm.rs, which
# holds the other end of the VM's second serial port. One request at a time, each one line
# "ID SCRIPT" (SCRIPT a bash script, base64), each answered by one line
# "@@res ID EXIT_CODE STDOUT STDERR" (both base64, "-" when empty). The script runs in /work, as
# root on the operator's machine of the lab, with nothing on its stdin.
tty=/dev/ttyS1
stty -F $tty raw -echo clocal
exec 3<>$tty
b64() { if [ -s "$1" ]; then base64 -w 0 "$1"; else echo -; fi; }
echo "@@ready" >&3
while read -r id script <&3; do
  echo "$script" | base64 -d >/tmp/request.sh
  (cd /work && exec bash /tmp/request.sh) </dev/null >/tmp/request.out 2>/tmp/request.err 3<&-
  rc=$?
  echo "@@res $id $rc $(b64 /tmp/request.out) $(b64 /tmp/request.err)" >&3
done
