# Port 0 is plugged into a host tap device (nfpemu0, see host): the host
# pings the guest through the emulated card, and the guest pings back.
. lib/guest/net.sh
mkdir -p out
modprobe nfp
dev=$(port_netdev 0) || exit 1
ip addr add 10.9.0.2/24 dev "$dev"
ip link set "$dev" up
# Wait for the host to have pinged us, then ping it.
for _ in $(seq 120); do
  [ -e out/host-ping-ok ] && break
  sleep 1
done
ping -c 3 -W 2 10.9.0.1 >out/guest-ping.txt
echo $? >out/guest-ping.rc
tail -2 out/guest-ping.txt
touch out/guest-done
