# shellcheck shell=dash
# The unmodified nfp driver probes the emulated Agilio CX to the end: CPP
# bus, NSP, hwinfo, firmware load, rtsyms, BPF app with its control vNIC,
# two data netdevs; then 10 rmmod/modprobe cycles give the same result.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/probe-milestones.sh
. lib/guest/probe-milestones.sh
mkdir -p out

t0=$(cut -d' ' -f1 /proc/uptime)
modprobe nfp
t1=$(cut -d' ' -f1 /proc/uptime)
echo "$t0 $t1" >out/probe-time.txt
echo "modprobe nfp took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s of guest time"
dmesg >out/dmesg.txt
nfp_dmesg out/dmesg.txt
probe_milestones out/dmesg.txt

# The nfp netdevs: those whose device is bound to the nfp driver.
nfp_netdevs() {
  for d in /sys/class/net/*; do
    [ "$(basename "$(readlink "$d/device/driver" 2>/dev/null)")" = nfp ] && basename "$d"
  done
}
nfp_netdevs >out/netdevs.txt
echo "== ip link"
ip -br link | tee out/ip-link.txt
while read -r dev; do
  echo "== ethtool -i $dev"
  ethtool -i "$dev" | tee "out/ethtool-i-$dev.txt"
done <out/netdevs.txt
echo "== devlink dev info"
devlink dev info | tee out/devlink-info.txt
# Whether this kernel's driver reports the board part number at all (6.12:
# nfp_devlink.c:163, DEVLINK_INFO_VERSION_GENERIC_BOARD_PART_NUMBER from
# hwinfo "pn"; 6.1's nfp_devlink.c:154-159 has no such entry): its name is
# in nfp.ko (xz-compressed in an older image cache).
python3 -c '
import lzma, sys
p = sys.argv[1]
d = open(p, "rb").read()
d = lzma.decompress(d) if p.endswith(".xz") else d
print("yes" if b"board.part_number" in d else "no")' "$(modinfo -n nfp)" >out/driver-reports-pn.txt
echo "== devlink port show"
devlink port show | tee out/devlink-port.txt

# Reload cycles: record what each probe produced.
summary() {
  for dev in $(nfp_netdevs); do
    printf '%s %s\n' "$dev" "$(cat "/sys/class/net/$dev/address")"
  done
  dmesg | grep -cE 'CAP: .*BPF'
}
summary >out/reload-0.txt
for i in $(seq 1 10); do
  rmmod nfp
  dmesg -C
  modprobe nfp
  summary >"out/reload-$i.txt"
  dmesg >"out/dmesg-reload-$i.txt"
done
echo "== reload results"
for i in $(seq 1 10); do
  if cmp -s out/reload-0.txt "out/reload-$i.txt"; then echo "reload $i: same"; else echo "reload $i: DIFFERENT"; cat "out/reload-$i.txt"; fi
done
