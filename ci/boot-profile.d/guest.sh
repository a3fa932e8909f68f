# shellcheck shell=dash
# Guest side of ci/boot-profile: the steps from init to an offloaded program,
# each printed as "@@step NAME UPTIME" (guest seconds since the kernel
# started) for the host to put beside its own clock.
up() { cut -d' ' -f1 /proc/uptime; }
echo "@@step script $(up)"
modprobe nfp
echo "@@step modprobe $(up)"
# The first data netdev bound to nfp, brought up with carrier.
dev=
for d in /sys/class/net/*; do
  [ "$(basename "$(readlink "$d/device/driver" 2>/dev/null)")" = nfp ] || continue
  [ -n "$(cat "$d/phys_port_name" 2>/dev/null)" ] || continue
  dev=$(basename "$d")
  break
done
[ -n "$dev" ] || { echo "no nfp netdev"; exit 1; }
ip link set dev "$dev" up
until [ "$(cat "/sys/class/net/$dev/carrier" 2>/dev/null)" = 1 ]; do sleep 0.05; done
echo "@@step link $(up)"
ip link set dev "$dev" xdpoffload obj progs/drop.o sec xdp || exit 1
echo "@@step offload $(up)"
# Kernel milestones, from the ring buffer's own timestamps.
dmesg | awk '
  /Run .* as init process/ && !i { sub(/^\[ */, ""); sub(/\].*/, ""); print "@@step kernel " $0; i = 1 }
  /Finished loading FW image/ && !f { sub(/^\[ */, ""); sub(/\].*/, ""); print "@@step firmware " $0; f = 1 }
  /nfp.*Network Flow Processor/ && !p { sub(/^\[ */, ""); sub(/\].*/, ""); print "@@step probe " $0; p = 1 }'
