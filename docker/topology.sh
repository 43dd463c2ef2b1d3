# Sourced by the lab's scripts: reads the topology file into
#   $lab_network $lab_guard $lab_vip, hosts=(name...), routers=(name...) (the real-kernel lab's
#   only, so not among hosts), addr[name]=address, role[name]=kind,
#   os[name]=the Debian release the host runs in the real-kernel lab
# Usage: . topology.sh   (reads $LAB_TOPOLOGY, by default the topology next to this file; never
# "$1": a sourced script sees its caller's arguments)
declare -gA addr=() role=() os=()
hosts=() routers=()
while read -r kind name address _user vm_os _; do
  case $kind in
    '' | '#'*) continue ;;
    network) lab_network=$address ;;
    guard) lab_guard=$address ;;
    vip) lab_vip=$address ;;
    router) routers+=("$name"); addr[$name]=$address; role[$name]=$kind; os[$name]=${vm_os:-bookworm} ;;
    *) hosts+=("$name"); addr[$name]=$address; role[$name]=$kind; os[$name]=${vm_os:-bookworm} ;;
  esac
done <"${LAB_TOPOLOGY:-$(dirname "${BASH_SOURCE[0]}")/topology}"
