# Traffic across the loopback cable between the card's two ports, with the
# two netdevs in separate network namespaces: ping, 20 MB TCP at MTU 1500
# and 9000, counters, ring changes under load, link flaps, driver reloads.
. lib/guest/net.sh
mkdir -p out
modprobe nfp
cable_namespaces || exit 1

echo "== ping both ways"
ip netns exec a ping -c 3 -W 2 10.0.0.2 >out/ping-ab.txt
echo $? >out/ping-ab.rc
ip netns exec b ping -c 3 -W 2 10.0.0.1 >out/ping-ba.txt
echo $? >out/ping-ba.rc
tail -n 1 out/ping-ab.txt out/ping-ba.txt

echo "== 20 MB over TCP"
head -c 20000000 /dev/urandom >/tmp/data
sha256sum </tmp/data | cut -d' ' -f1 >out/sent.sha
transfer 5001 /tmp/data >out/recv-1500.sha
echo "MTU 1500: $(cat out/recv-1500.sha)"
ip -n a link set "$A" mtu 9000
ip -n b link set "$B" mtu 9000
wait_carrier a "$A"; wait_carrier b "$B"
ip netns exec a ping -c 1 -W 2 -M do -s 8972 10.0.0.2 >/dev/null
echo $? >out/ping-9000.rc
transfer 5002 /tmp/data >out/recv-9000.sha
echo "MTU 9000: $(cat out/recv-9000.sha)"
ip -n a link set "$A" mtu 1500
ip -n b link set "$B" mtu 1500

echo "== counters for 1000 frames"
cable_namespaces noipv6 || exit 1
before_tx=$(ethstat a "$A" dev_tx_pkts); before_mtx=$(ethstat a "$A" mac.tx_frames_transmitted_ok)
before_rx=$(ethstat b "$B" dev_rx_pkts); before_mrx=$(ethstat b "$B" mac.rx_frames_received_ok)
send_raw a "$A" 1000 0x88b5
sleep 1
{
  echo "tx $(($(ethstat a "$A" dev_tx_pkts) - before_tx))"
  echo "mac_tx $(($(ethstat a "$A" mac.tx_frames_transmitted_ok) - before_mtx))"
  echo "rx $(($(ethstat b "$B" dev_rx_pkts) - before_rx))"
  echo "mac_rx $(($(ethstat b "$B" mac.rx_frames_received_ok) - before_mrx))"
} | tee out/counters.txt

echo "== MAC filter and promiscuous mode"
rx0=$(ethstat b "$B" dev_rx_pkts)
send_raw a "$A" 100 0x88b5 02:00:00:00:00:99
sleep 1
rx1=$(ethstat b "$B" dev_rx_pkts)
ip -n b link set "$B" promisc on
sleep 1
send_raw a "$A" 100 0x88b5 02:00:00:00:00:99
sleep 1
rx2=$(ethstat b "$B" dev_rx_pkts)
ip -n b link set "$B" promisc off
echo "filtered $((rx1 - rx0)) promisc $((rx2 - rx1))" | tee out/promisc.txt

echo "== MAC address change and interrupt moderation"
ip -n b link set "$B" down
ip -n b link set "$B" address 02:15:4d:00:00:42
ip -n b link set "$B" up
wait_carrier b "$B"
ip netns exec a ip neigh flush all
ip netns exec a ping -c 2 -W 2 10.0.0.2 >/dev/null
echo $? >out/ping-newmac.rc
ip netns exec a ethtool -C "$A" rx-usecs 10 tx-usecs 10 rx-frames 16 tx-frames 16
echo $? >out/coalesce.rc
ip netns exec a ethtool -c "$A" | grep -E '^rx-usecs:' | tee out/coalesce.txt

echo "== ring changes, link flap under load"
cable_namespaces || exit 1
head -c 40000000 /dev/urandom >/tmp/data2
sha256sum </tmp/data2 | cut -d' ' -f1 >out/sent2.sha
(transfer 5003 /tmp/data2 >out/recv-load.sha) &
load=$!
sleep 3
ip netns exec a ethtool -L "$A" combined 1; echo "L1 $?" >>out/reconf.txt
sleep 2
ip netns exec b ethtool -L "$B" combined 1; echo "L1b $?" >>out/reconf.txt
sleep 2
ip netns exec a ethtool -L "$A" combined 2; echo "L2 $?" >>out/reconf.txt
ip netns exec b ethtool -L "$B" combined 2; echo "L2b $?" >>out/reconf.txt
sleep 2
ip netns exec a ethtool -G "$A" rx 512 tx 512; echo "G512 $?" >>out/reconf.txt
sleep 2
ip netns exec b ethtool -G "$B" rx 1024 tx 2048; echo "G1024 $?" >>out/reconf.txt
sleep 2
ip -n a link set "$A" down; sleep 1; ip -n a link set "$A" up; echo "flap $?" >>out/reconf.txt
wait_carrier a "$A"
wait $load
cat out/reconf.txt
echo "under load: $(cat out/recv-load.sha)"
ip netns exec a ethtool -l "$A" | tail -4 >out/channels.txt
ip netns exec a ethtool -g "$A" | sed -n '/Current hardware/,$p' >out/rings.txt
ip netns exec a ping -c 2 -W 2 10.0.0.2 >/dev/null
echo $? >out/ping-after.rc

echo "== 10 driver reloads"
: >out/reloads.txt
for i in $(seq 1 10); do
  rmmod nfp
  modprobe nfp
  if cable_namespaces >/dev/null && ip netns exec a ping -c 1 -W 3 10.0.0.2 >/dev/null; then
    echo "reload $i ok" >>out/reloads.txt
  else
    echo "reload $i FAILED" >>out/reloads.txt
  fi
done
cat out/reloads.txt
dmesg >out/dmesg.txt
