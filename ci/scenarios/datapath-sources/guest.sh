# shellcheck shell=dash
# Traffic without a peer: port 0 is a generator (64-byte IPv4/UDP frames,
# 8 flows, 500/s, without end), port 1 replays frames.pcap (3 frames,
# without end, 50/s). drop.c offloaded on port 0 drops the generated
# frames (bpf_app1); port 1, without a program, passes the file's frames to
# the stack, where a capture sees them, byte for byte and in file order.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/net.sh
. lib/guest/net.sh
mkdir -p out
modprobe nfp
wait_for both_ports || exit 1
A=$(port_netdev 0)
B=$(port_netdev 1)
for dev in "$A" "$B"; do
  sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
  ip link set "$dev" up
done
ip -force link set dev "$A" xdpoffload obj progs/drop.o sec xdp
echo "load $?" >out/load.txt
app1() { ethtool -S "$A" | awk '$1 == "bpf_app1_pkts:" { print $2 }'; }
at_least() { [ "$(app1)" -ge "$1" ]; }
d0=$(app1)
wait_for at_least $((d0 + 1000))
echo "dropped $(( $(app1) - d0 ))" | tee out/gen.txt
mac_rx() { ethtool -S "$B" | awk '$1 == "mac.rx_frames_received_ok:" { print $2 }'; }
replayed() { [ "$(mac_rx)" -ge "$1" ]; }
r0=$(mac_rx)
wait_for replayed $((r0 + 9))
timeout 120 tcpdump -i "$B" -p -c 9 -w out/replay.pcap ether proto 0x88b5 2>out/tcpdump.err
echo "tcpdump exit $?"
tcpdump -r out/replay.pcap -nn -e 2>/dev/null | head -3
ethtool -S "$A" | grep -E "bpf_|rx_frames_received_ok" >out/stats.txt
ethtool -S "$B" | grep -E "rx|drop" | grep -v ": 0$" | tee out/stats-b.txt
ip -s link show "$B"
