# shellcheck shell=dash
# Port 0 is a UDP cable to a program on the host (see host): its frames
# reach the guest's netdev, and the guest's frames reach it, byte for byte.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/net.sh
. lib/guest/net.sh
mkdir -p out
modprobe nfp
dev=$(port_netdev 0) || exit 1
sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
ip link set "$dev" up
# The host keeps sending its 5 frames; capture one full set.
timeout "$WAIT_LIMIT" tcpdump -i "$dev" -p -c 10 -w out/guest-rx.pcap ether proto 0x88b5 2>out/tcpdump.err
echo "tcpdump exit $?"
tcpdump -r out/guest-rx.pcap -nn -e 2>/dev/null | head -5
# Frames for the host: unicast, broadcast, a jumbo-free big one, then END.
python3 - "$dev" <<'PY'
import os, socket, struct, sys
# One CPU, so one TX queue (the driver maps each CPU to its own ring, XPS):
# Linux keeps frames in order within a queue, not across queues.
os.sched_setaffinity(0, {0})
dev = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
src = bytes.fromhex(open(f"/sys/class/net/{dev}/address").read().strip().replace(":", ""))
frames = []
for i, size in enumerate([60, 200, 1514]):
    hdr = bytes.fromhex("02aabbccdd00") + src + b"\x88\xb5"
    body = b"nfp-emu guest frame %d " % i
    frames.append((hdr + body + bytes((i + k) & 0xff for k in range(size - len(hdr) - len(body)))))
frames.append(b"\xff" * 6 + src + b"\x88\xb5" + b"nfp-emu guest END" + bytes(43))
with open("out/guest-sent.bin", "wb") as f:
    for fr in frames:
        s.send(fr)
        f.write(struct.pack(">H", len(fr)) + fr)
PY
# The host program says when it has them all.
wait_for test -e out/host-done
ip -s link show "$dev" | head -8
# What the driver and the card counted on the way out: per-ring TX, the
# vNIC's TX and errors, the MAC's frames sent and queue drops.
ethtool -S "$dev" | grep -E '^ *(txq_[0-9]+_pkts|dev_tx_(pkts|errors)|mac\.tx_(frames_transmitted_ok|queue_drop)):' | tee out/tx-stats.txt
