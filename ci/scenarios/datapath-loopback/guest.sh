# shellcheck shell=dash
# Traffic across the loopback cable between the card's two ports, with the
# two netdevs in separate network namespaces: ping, 20 MB TCP at MTU 1500,
# 3500 and 9000, counters, ring changes under load, link flaps, driver reloads.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/net.sh
. lib/guest/net.sh
mkdir -p out
modprobe nfp
cable_namespaces || exit 1

echo "== ping both ways"
ip netns exec a ping -c 3 -w "$WAIT_LIMIT" 10.0.0.2 >out/ping-ab.txt
echo $? >out/ping-ab.rc
ip netns exec b ping -c 3 -w "$WAIT_LIMIT" 10.0.0.1 >out/ping-ba.txt
echo $? >out/ping-ba.rc
tail -n 1 out/ping-ab.txt out/ping-ba.txt

echo "== 20 MB over TCP"
head -c 20000000 /dev/urandom >/tmp/data
sha256sum </tmp/data | cut -d' ' -f1 >out/sent.sha
transfer 5001 /tmp/data >out/recv-1500.sha
echo "MTU 1500: $(cat out/recv-1500.sha)"
# jumbo MTU: frame, 20 MB over TCP, back to 1500.
jumbo() {
  ip -n a link set "$A" mtu "$1" 2>>"out/mtu-$1.err"
  _j_a=$?
  ip -n b link set "$B" mtu "$1" 2>>"out/mtu-$1.err"
  echo "$_j_a $?" >"out/mtu-$1.rc"
  if [ "$(cat "out/mtu-$1.rc")" = "0 0" ]; then
    wait_carrier a "$A"; wait_carrier b "$B"
    ip netns exec a ping -c 1 -w "$WAIT_LIMIT" -M "do" -s $(($1 - 28)) 10.0.0.2 >/dev/null
    echo $? >"out/ping-$1.rc"
    transfer "$2" /tmp/data >"out/recv-$1.sha"
    echo "MTU $1: $(cat "out/recv-$1.sha")"
  else
    echo "MTU $1 refused: $(cat "out/mtu-$1.err")"
  fi
  ip -n a link set "$A" mtu 1500
  ip -n b link set "$B" mtu 1500
}
# 3500: the driver's RX buffer (MTU + 470 B, nfp_net_common.c:694-719)
# still fits one 4 KB page. 9000: 9.5 KB buffers from netdev_alloc_frag
# (nfp_net_dp.c:22), which Linux >= 6.13 refuses, with any amount of free
# memory, once the per-CPU frag page has no room left
# (mm/page_frag_cache.c:121-132); the check tells that refusal from a
# card's failure. Free blocks of order >= 3 (32 KB, the frag page's size)
# are recorded first.
jumbo 3500 5002
awk '{ for (k = 3; k <= 10; k++) n += $(5 + k) * 2 ^ (k - 3) } END { print n }' \
  /proc/buddyinfo >out/free-order3.txt
jumbo 9000 5004

echo "== counters for 1000 frames"
cable_namespaces noipv6 || exit 1
before_tx=$(ethstat a "$A" dev_tx_pkts); before_mtx=$(ethstat a "$A" mac.tx_frames_transmitted_ok)
before_rx=$(ethstat b "$B" dev_rx_pkts); before_mrx=$(ethstat b "$B" mac.rx_frames_received_ok)
send_raw a "$A" 1000 0x88b5
# Every frame counted at both ends (the receiving end counts last).
wait_ethsum $((before_tx + 1000)) a "$A" dev_tx_pkts
wait_ethsum $((before_mtx + 1000)) a "$A" mac.tx_frames_transmitted_ok
wait_ethsum $((before_mrx + 1000)) b "$B" mac.rx_frames_received_ok
wait_ethsum $((before_rx + 1000)) b "$B" dev_rx_pkts
{
  echo "tx $(($(ethstat a "$A" dev_tx_pkts) - before_tx))"
  echo "mac_tx $(($(ethstat a "$A" mac.tx_frames_transmitted_ok) - before_mtx))"
  echo "rx $(($(ethstat b "$B" dev_rx_pkts) - before_rx))"
  echo "mac_rx $(($(ethstat b "$B" mac.rx_frames_received_ok) - before_mrx))"
} | tee out/counters.txt

echo "== MAC filter and promiscuous mode"
# 100 frames for another MAC, then one broadcast frame as a fence: once the
# MAC has counted all 101 and the fence reached the netdev, every one of
# the 100 has been filtered or delivered.
rx0=$(ethstat b "$B" dev_rx_pkts) mrx0=$(ethstat b "$B" mac.rx_frames_received_ok)
send_raw a "$A" 100 0x88b5 02:00:00:00:00:99
send_raw a "$A" 1 0x88b5
wait_ethsum $((mrx0 + 101)) b "$B" mac.rx_frames_received_ok
wait_ethsum $((rx0 + 1)) b "$B" dev_rx_pkts
rx1=$(ethstat b "$B" dev_rx_pkts)
# The driver's reconfig is synchronous: promiscuous mode is on when ip returns.
ip -n b link set "$B" promisc on
send_raw a "$A" 100 0x88b5 02:00:00:00:00:99
wait_ethsum $((rx1 + 100)) b "$B" dev_rx_pkts
rx2=$(ethstat b "$B" dev_rx_pkts)
ip -n b link set "$B" promisc off
echo "filtered $((rx1 - rx0 - 1)) promisc $((rx2 - rx1))" | tee out/promisc.txt

echo "== MAC address change and interrupt moderation"
ip -n b link set "$B" down
ip -n b link set "$B" address 02:15:4d:00:00:42
ip -n b link set "$B" up
wait_carrier b "$B"
ip netns exec a ip neigh flush all
ping_ok a 10.0.0.2
echo $? >out/ping-newmac.rc
ip netns exec a ethtool -C "$A" rx-usecs 10 tx-usecs 10 rx-frames 16 tx-frames 16
echo $? >out/coalesce.rc
ip netns exec a ethtool -c "$A" | grep -E '^rx-usecs:' | tee out/coalesce.txt

echo "== ring changes, link flap under load"
# A TCP stream from a to b lasts until every change is made (stream_start);
# before each change, wait for the stream to have moved another 256 KB, so
# each change meets traffic in flight.
cable_namespaces || exit 1
head -c 4000000 /dev/urandom >/tmp/chunk
stream_start 5003 /tmp/chunk /tmp/changes-done || exit 1
: >out/reconf.txt
flowing() {
  wait_devstat $(($(devstat b "$B" rx_bytes) + 262144)) b "$B" rx_bytes ||
    echo "flow stopped before $1 1" >>out/reconf.txt
}
flowing L1; ip netns exec a ethtool -L "$A" combined 1; echo "L1 $?" >>out/reconf.txt
flowing L1b; ip netns exec b ethtool -L "$B" combined 1; echo "L1b $?" >>out/reconf.txt
flowing L2; ip netns exec a ethtool -L "$A" combined 2; echo "L2 $?" >>out/reconf.txt
ip netns exec b ethtool -L "$B" combined 2; echo "L2b $?" >>out/reconf.txt
flowing G512; ip netns exec a ethtool -G "$A" rx 512 tx 512; echo "G512 $?" >>out/reconf.txt
flowing G1024; ip netns exec b ethtool -G "$B" rx 1024 tx 2048; echo "G1024 $?" >>out/reconf.txt
flowing flap; ip -n a link set "$A" down; ip -n a link set "$A" up; echo "flap $?" >>out/reconf.txt
wait_carrier a "$A"
flowing end
touch /tmp/changes-done
stream_wait
echo "$STREAM_SENT" >out/sent2.sha
echo "$STREAM_RECEIVED" >out/recv-load.sha
echo "$STREAM_STATUS" >out/stream.rc
cat out/reconf.txt
echo "under load: sent $STREAM_SENT, received $STREAM_RECEIVED (sha256, bytes); sender status $STREAM_STATUS"
ip netns exec a ethtool -l "$A" | tail -4 >out/channels.txt
ip netns exec a ethtool -g "$A" | sed -n '/Current hardware/,$p' >out/rings.txt
ping_ok a 10.0.0.2
echo $? >out/ping-after.rc

echo "== 10 driver reloads"
: >out/reloads.txt
for i in $(seq 1 10); do
  rmmod nfp
  modprobe nfp
  if cable_namespaces >/dev/null && ping_ok a 10.0.0.2; then
    echo "reload $i ok" >>out/reloads.txt
  else
    echo "reload $i FAILED" >>out/reloads.txt
  fi
done
cat out/reloads.txt
dmesg >out/dmesg.txt
