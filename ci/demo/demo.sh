# shellcheck shell=dash
# nfp-emu demo, run inside the guest by `./run demo`: what the guest sees of
# the emulated Agilio CX and what the unmodified nfp driver makes of it.
# shellcheck source-path=SCRIPTDIR source=../lib/guest/probe-milestones.sh
. lib/guest/probe-milestones.sh
mkdir -p out
step() { printf '\n== %s\n' "$*"; }

step "the emulated card on the guest's PCI bus"
lspci -nn -d 19ee:
dev=$(lspci -D -n -d 19ee:4000 | awk '{print $1; exit}')
[ -n "$dev" ] || { echo "no Netronome NFP-4000 (19ee:4000) found"; exit 1; }
lspci -vv -s "$dev" | grep -E 'Subsystem|Region|Capabilities|Serial|LnkSta:'

step "modprobe nfp (the unmodified driver of $(uname -r))"
t0=$(cut -d' ' -f1 /proc/uptime)
modprobe nfp
t1=$(cut -d' ' -f1 /proc/uptime)
dmesg >out/dmesg.txt
nfp_dmesg out/dmesg.txt | grep -v 'firmware: failed to load' | sed -n '1,40p'
echo "(probe took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s of guest time)"

step "netdevs"
ip -br link show | grep -v '^lo '
for d in /sys/class/net/*; do
  [ "$(basename "$(readlink "$d/device/driver" 2>/dev/null)")" = nfp ] || continue
  n=$(basename "$d")
  echo "-- ethtool -i $n"
  ethtool -i "$n" | grep -E 'driver|firmware-version|bus-info'
done

step "devlink"
devlink dev info
devlink port show

step "result of the probe"
probe_milestones out/dmesg.txt

step "traffic across the loopback cable (port 0 <-> port 1), netdevs in namespaces a and b"
# shellcheck source-path=SCRIPTDIR source=../lib/guest/net.sh
. lib/guest/net.sh
cable_namespaces noipv6 || exit 1
ip netns exec a ping -c 3 10.0.0.2
head -c 10000000 /dev/urandom >/tmp/data
t0=$(cut -d' ' -f1 /proc/uptime)
got=$(transfer 5001 /tmp/data)
t1=$(cut -d' ' -f1 /proc/uptime)
echo "10 MB over TCP a -> b in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s: $( [ "$got" = "$(sha256sum </tmp/data | cut -d' ' -f1)" ] && echo intact || echo CORRUPTED)"
echo "-- ethtool -S on both ends (selected counters)"
for ns in a b; do
  dev=$A; [ $ns = b ] && dev=$B
  echo "$ns/$dev: $(ip netns exec $ns ethtool -S "$dev" | awk '$1 ~ /^(dev_tx_pkts|dev_rx_pkts|mac.tx_frames_transmitted_ok|mac.rx_frames_received_ok):$/ { printf "%s %s  ", $1, $2 }')"
done

step "offloading the Getting Started Guide's drop.c to port 0 ($A in netns a)"
sed -n '/#include/,$p' progs/drop.c
ip netns exec a ip -force link set dev "$A" xdpoffload obj progs/drop.o sec xdp || exit 1
ip netns exec a ip link show dev "$A"
bpftool prog show | grep -B1 -A2 offloaded_to
bpfstats() { ip netns exec a ethtool -S "$A" | awk '$1 ~ /^(dev_rx_pkts|bpf_.*_pkts):$/ { printf "  %-16s %s\n", $1, $2 }'; }
echo "-- counters before"; bpfstats
rx0=$(ip netns exec a cat "/sys/class/net/$A/statistics/rx_packets")
v=$(verdicts)
echo "-- port 1 sends 1000 frames across the cable to port 0"
ip netns exec b python3 lib/guest/frames.py send "$B" 1000 --dst "$MAC_A" >/dev/null
settle "$v" 1000
echo "-- counters after (bpf_app1 = dropped by the program on the card)"; bpfstats
echo "frames that reached port 0's network stack: $(( $(ip netns exec a cat "/sys/class/net/$A/statistics/rx_packets") - rx0 ))"

step "XDP_TX: a program that swaps the MAC addresses and sends each frame back out"
ip netns exec a ip -force link set dev "$A" xdpoffload obj progs/xdp_tx_swap.o sec xdp || exit 1
ip netns exec b python3 lib/guest/frames.py swapcheck "$B" 50 --dst "$MAC_A"
echo "-- counters (bpf_app2 = transmitted by the program)"; bpfstats

step "an offloaded map: the card counts packets and bytes, the host reads them with bpftool"
ip netns exec a ip -force link set dev "$A" xdpoffload obj progs/map_count.o sec xdp 2>/dev/null || exit 1
bpftool map show name counters
v=$(verdicts)
ip netns exec b python3 lib/guest/frames.py send "$B" 100 --dst "$MAC_A" >/dev/null
settle "$v" 100
echo "-- bpftool map dump name counters (slot 0: packets, 1: bytes, 2: 100000 per packet)"
bpftool map dump name counters
ip netns exec a ip -force link set dev "$A" xdpoffload off
echo "offload removed: $(ip netns exec a ip link show dev "$A" | grep -c xdpoffload) programs left on $A"
