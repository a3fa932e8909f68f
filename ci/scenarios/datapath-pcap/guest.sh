# shellcheck shell=dash
# nfp-emu --pcap records every frame that crosses each port: the files open
# in tcpdump and hold exactly what the guest's own captures saw leave and
# arrive (offloads off, so captured bytes are wire bytes).
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/net.sh
. lib/guest/net.sh
mkdir -p out
modprobe nfp
cable_namespaces noipv6 || exit 1
for ns in a b; do
  dev=$A; [ $ns = b ] && dev=$B
  ip netns exec $ns ethtool -K "$dev" tso off gso off gro off tx off rx off
  wait_carrier $ns "$dev"
done
caps=""
for ns in a b; do
  dev=$A; [ $ns = b ] && dev=$B
  for dir in in out; do
    ip netns exec $ns tcpdump -Z root -p -U -i "$dev" -Q $dir -w "out/$ns-$dir.pcap" 2>/dev/null &
    caps="$caps $!"
  done
done
# tcpdump writes the file header once its capture is active.
header_written() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge 24 ]; }
for f in a-in a-out b-in b-out; do wait_for header_written "out/$f.pcap" || exit 1; done
ip netns exec a ping -c 5 -i 0.2 10.0.0.2 >/dev/null
ip netns exec b ping -c 3 -i 0.2 10.0.0.1 >/dev/null
send_raw a "$A" 50 0x88b5
send_raw b "$B" 20 0x88b6
head -c 200000 /dev/urandom >/tmp/small
transfer 5005 /tmp/small >/dev/null
# Last, one end marker each way (ethertype 0x88b7): once it is in a file,
# every frame before it is too.
send_raw a "$A" 1 0x88b7
send_raw b "$B" 1 0x88b7
has_marker() { tcpdump -r "$1" -nn ether proto 0x88b7 2>/dev/null | grep -q .; }
card=/mnt/host/pcap/nfp0
for f in out/a-out.pcap out/b-in.pcap out/b-out.pcap out/a-in.pcap \
  $card/port0-tx.pcap $card/port1-rx.pcap $card/port1-tx.pcap $card/port0-rx.pcap; do
  wait_for has_marker "$f" || exit 1
done
# shellcheck disable=SC2086 # a list of pids
kill -INT $caps
for p in $caps; do wait "$p"; done
for f in "$card"/*.pcap; do
  echo "$(basename "$f") $(tcpdump -r "$f" -nn -q -t 2>/dev/null | grep -c '^')"
done | tee out/card-pcap-counts.txt
for f in out/*.pcap; do echo "guest $(basename "$f") $(tcpdump -r "$f" -nn 2>/dev/null | wc -l)"; done
