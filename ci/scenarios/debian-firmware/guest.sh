# shellcheck shell=dash
# Debian's firmware-netronome as shipped, one app after the other on the
# default board (AMDA0099-0001 2x25), as a user switches the link
# netronome/nic_AMDA0099-0001_2x25.nffw: nic/ (Debian's default: the core
# NIC app, traffic, XDP offload refused), bpf/ (XDP drop and a map program
# offloaded), nic-sriov/ (loads), flower/ (not modelled: refused clearly).
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/net.sh
. lib/guest/net.sh
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/debian-firmware.sh
. lib/guest/debian-firmware.sh
mkdir -p out
use_debian_firmware nic || exit 1

run_app() { # run_app APP: modprobe with APP's image, dmesg to out/dmesg-APP.txt
  rmmod nfp 2>/dev/null
  dmesg -C
  use_debian_firmware "$1"
  modprobe nfp
  dmesg >"out/dmesg-$1.txt"
  grep -E 'nfp' "out/dmesg-$1.txt" | grep -vE 'Command line|Copyright' | sed -n '1,30p'
}

echo "== nic/ (Debian's default)"
run_app nic
cable_namespaces noipv6 && echo ok >out/nic-cabled.txt
ip netns exec a ping -c 3 -w "$WAIT_LIMIT" 10.0.0.2 >out/nic-ping.txt
echo $? >out/nic-ping.rc
tail -1 out/nic-ping.txt
ip netns exec a ip -force link set dev "$A" xdpoffload obj progs/drop.o sec xdp >out/nic-xdpoffload.txt 2>&1
echo $? >out/nic-xdpoffload.rc
cat out/nic-xdpoffload.txt
ip netns exec a ip link show dev "$A" >out/nic-link.txt
for ns in a b; do ip netns del "$ns"; done

echo "== bpf/"
run_app bpf
cable_namespaces noipv6 || exit 1
ip -n a link set "$A" promisc on
ip netns exec a ip -force link set dev "$A" xdpoffload obj progs/drop.o sec xdp
echo $? >out/bpf-drop.rc
ip netns exec a ip link show dev "$A" | tee out/bpf-drop-link.txt
rx=$(inA cat "/sys/class/net/$A/statistics/rx_packets") v=$(verdicts)
sent=$(inB python3 lib/guest/frames.py send "$B" 100 --dst "$MAC_A")
settle "$v" "$sent"
echo "sent $sent stack $(( $(inA cat "/sys/class/net/$A/statistics/rx_packets") - rx ))" | tee out/bpf-drop.txt
ip netns exec a ip -force link set dev "$A" xdpoffload obj progs/map_count.o sec xdp
echo $? >out/bpf-map.rc
v=$(verdicts)
sent=$(inB python3 lib/guest/frames.py send "$B" 50 --dst "$MAC_A")
settle "$v" "$sent"
bpftool map show | tee out/bpf-map-show.txt
pkts=$(bpftool -j map lookup name counters key 0 0 0 0 | python3 -c '
import json, sys
v = json.load(sys.stdin)["value"]
print(int.from_bytes(bytes(int(x, 16) for x in v), "little"))')
echo "sent $sent pkts $pkts" | tee out/bpf-map.txt
ip netns exec a ip link set dev "$A" xdpoffload off
for ns in a b; do ip netns del "$ns"; done

echo "== nic-sriov/"
run_app nic-sriov
ip -br link | tee out/sriov-link.txt

echo "== flower/"
run_app flower
ls /sys/bus/pci/drivers/nfp/ >out/flower-bound.txt
rmmod nfp 2>/dev/null
true
