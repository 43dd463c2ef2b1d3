# The demo, inside the real-kernel lab's client: converge, prove the balance, take it down.
set -x
lvsprov up inventories/lab.json
lvsprov verify inventories/lab.json --requests 20
lvsprov down inventories/lab.json
