# shellcheck shell=dash
# Sourced by the board-* scenarios: probe the card nfp-emu presents as
# another board (nfp-vm.args: --board) with the project's image for it,
# bring every port up and record what the driver made of it: out/dmesg.txt,
# out/ports.txt (one line per nfp netdev in ETH table order: dev_port,
# phys_port_name, carrier, ethtool speed), devlink info and ports.
# shellcheck source-path=SCRIPTDIR source=net.sh
. lib/guest/net.sh
# shellcheck source-path=SCRIPTDIR source=probe-milestones.sh
. lib/guest/probe-milestones.sh
mkdir -p out
modprobe nfp
dmesg >out/dmesg.txt
nfp_dmesg out/dmesg.txt
probe_milestones out/dmesg.txt
nfp_netdevs() {
  for d in /sys/class/net/*; do
    [ "$(basename "$(readlink "$d/device/driver" 2>/dev/null)")" = nfp ] &&
      [ -e "$d/phys_port_name" ] && basename "$d"
  done
}
carrier_up() { [ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" = 1 ]; }
devs=$(nfp_netdevs)
for dev in $devs; do ip link set "$dev" up; done
# Ports cabled in pairs (nfp-vm's default): every port with a partner gets
# carrier; a port left alone (the last of an odd count) does not.
n=$(echo "$devs" | wc -w)
for dev in $devs; do
  p=$(cat "/sys/class/net/$dev/dev_port")
  if [ $((p ^ 1)) -lt "$n" ]; then
    wait_for carrier_up "$dev" || echo "no carrier on $dev"
  fi
done
for dev in $devs; do
  printf '%s %s carrier=%s %s\n' "$(cat "/sys/class/net/$dev/dev_port")" \
    "$(cat "/sys/class/net/$dev/phys_port_name")" "$(cat "/sys/class/net/$dev/carrier")" \
    "$(ethtool "$dev" | sed -n 's/^[[:space:]]*Speed: /speed=/p')"
done | sort -n | tee out/ports.txt
echo "== devlink dev info"
devlink dev info | tee out/devlink-info.txt
echo "== devlink port show"
devlink port show | tee out/devlink-port.txt
