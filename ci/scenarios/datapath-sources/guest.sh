# shellcheck shell=dash
# Traffic without a peer: port 0 is a generator (64-byte IPv4/UDP frames,
# 8 flows, 500/s, without end), port 1 replays frames.pcap (3 frames,
# without end, 50/s). drop.c offloaded on port 0 drops the generated
# frames (bpf_app1); port 1's MAC counts the file's frames, one of each
# size per pass.
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
mac_rx() { ethtool -S "$B" | awk -v n="mac.$1:" '$1 == n { print $2 }'; }
replayed() { [ "$(mac_rx rx_frames_received_ok)" -ge "$1" ]; }
# The file's frames are 60, 100 and 300 bytes (64, 104, 304 on the wire):
# one each per pass, in the MAC's size buckets.
buckets() {
  ethtool -S "$B" | awk '{ v[$1] = $2 } END { print v["mac.rx_frames_received_ok:"] + 0, v["mac.rx_pkts_64_octets:"] + 0, v["mac.rx_pkts_65_to_127_octets:"] + 0, v["mac.rx_pkts_256_to_511_octets:"] + 0 }'
}
# shellcheck disable=SC2046 # four numbers
set -- $(buckets)
wait_for replayed $(($1 + 300))
# shellcheck disable=SC2046
set -- "$1" "$2" "$3" "$4" $(buckets)
echo "frames $(($5 - $1)) b64 $(($6 - $2)) b65_127 $(($7 - $3)) b256_511 $(($8 - $4))" | tee out/replay.txt
ethtool -S "$A" | grep -E "bpf_|rx_frames_received_ok" >out/stats.txt
ethtool -S "$B" | grep -E "rx|drop" | grep -v ": 0$" >out/stats-b.txt
