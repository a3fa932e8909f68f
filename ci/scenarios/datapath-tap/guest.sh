# shellcheck shell=dash
# Port 0 is plugged into a host tap device (see host): the host pings the
# guest through the emulated card, and the guest pings back.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/net.sh
. lib/guest/net.sh
mkdir -p out
modprobe nfp
dev=$(port_netdev 0) || exit 1
ip addr add 10.9.0.2/24 dev "$dev"
ip link set "$dev" up
touch out/guest-ready
# Wait for the host to have pinged us (or given up), then ping it.
host_done() { [ -e out/host-ping-ok ] || [ -e out/host-ping-failed ]; }
wait_for host_done
ping -c 3 -w "$WAIT_LIMIT" 10.9.0.1 >out/guest-ping.txt
echo $? >out/guest-ping.rc
tail -2 out/guest-ping.txt
