# nfp-emu demo, run inside the guest by `./run demo`: what the guest sees of
# the emulated Agilio CX and what the unmodified nfp driver makes of it.
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

step "result"
probe_milestones out/dmesg.txt
