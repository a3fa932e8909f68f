# shellcheck shell=dash
# 50 driver reloads (rmmod/modprobe nfp) while a flood crosses the card
# (lib/guest/flood.py: port 1 to port 0, re-attached to each new pair of
# netdevs), then a byte-exact TCP transfer: teardown and bring-up of rings,
# interrupts and DMA mappings under traffic leave the card sound.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/net.sh
. lib/guest/net.sh
mkdir -p out
modprobe nfp
rm -f /tmp/flood.count /tmp/flood.stop
python3 lib/guest/flood.py /tmp/flood.count /tmp/flood.stop >out/flood.txt 2>&1 &
flood=$!
# flooded N: port 0's netdev (this incarnation) has received N frames.
flooded() {
  _dev=$(port_netdev 0) && [ "$(cat "/sys/class/net/$_dev/statistics/rx_packets" 2>/dev/null || echo 0)" -ge "$1" ]
}
: >out/reloads.txt
for i in $(seq 50); do
  # The flood crosses the card into this incarnation of the netdevs.
  if wait_for flooded 512; then flood_ok=flood; else flood_ok=no-flood; fi
  rmmod nfp; r1=$?
  modprobe nfp; r2=$?
  echo "reload $i $flood_ok rmmod $r1 modprobe $r2" >>out/reloads.txt
done
# The flooder reaches the last incarnation too before it is told to stop
# (else its generation count depends on how fast it re-attached).
if wait_for flooded 512; then echo flood >out/last.txt; else echo no-flood >out/last.txt; fi
touch /tmp/flood.stop
wait $flood
cat out/flood.txt
grep -c "flood rmmod 0 modprobe 0" out/reloads.txt | sed 's/^/reloads under flood, all fine: /'
echo "== a byte-exact transfer afterwards"
cable_namespaces noipv6 || exit 1
head -c 20000000 /dev/urandom >/tmp/data
sha256sum </tmp/data | cut -d' ' -f1 >out/sent.sha
transfer 5001 /tmp/data >out/recv.sha
echo "sent $(cat out/sent.sha) received $(cat out/recv.sha)"
ping_ok a 10.0.0.2
echo $? >out/ping.rc
dmesg >out/dmesg.txt
