# Sourced in the guest: helpers for traffic tests across the card's ports.

# port_netdev N: the netdev of physical port N (phys_port_name pN).
port_netdev() {
  for d in /sys/class/net/*; do
    if [ "$(cat "$d/phys_port_name" 2>/dev/null)" = "p$1" ]; then
      basename "$d"
      return 0
    fi
  done
  return 1
}

# wait_carrier NS DEV: wait up to 10 s for carrier.
wait_carrier() {
  for _ in $(seq 100); do
    [ "$(ip netns exec "$1" cat "/sys/class/net/$2/carrier" 2>/dev/null)" = 1 ] && return 0
    sleep 0.1
  done
  echo "no carrier on $2 in netns $1"
  return 1
}

# cable_namespaces [noipv6]: port 0's netdev into netns a as 10.0.0.1/24 and
# port 1's into netns b as 10.0.0.2/24, both up. With noipv6 the stack sends
# nothing by itself (no ND/MLD), so only the test's own frames cross.
# Sets A and B to the netdev names, MAC_A and MAC_B to their MACs.
cable_namespaces() {
  ip netns del a 2>/dev/null
  ip netns del b 2>/dev/null
  # Deleting a namespace hands its netdevs back to this one asynchronously.
  for _ in $(seq 100); do
    port_netdev 0 >/dev/null && port_netdev 1 >/dev/null && break
    sleep 0.1
  done
  ip netns add a
  ip netns add b
  A=$(port_netdev 0) || { echo "no netdev for port 0"; return 1; }
  B=$(port_netdev 1) || { echo "no netdev for port 1"; return 1; }
  ip link set "$A" netns a
  ip link set "$B" netns b
  if [ "${1:-}" = noipv6 ]; then
    ip netns exec a sysctl -qw "net.ipv6.conf.$A.disable_ipv6=1"
    ip netns exec b sysctl -qw "net.ipv6.conf.$B.disable_ipv6=1"
  fi
  ip -n a addr add 10.0.0.1/24 dev "$A"
  ip -n b addr add 10.0.0.2/24 dev "$B"
  ip -n a link set "$A" up
  ip -n b link set "$B" up
  MAC_A=$(inA cat "/sys/class/net/$A/address")
  MAC_B=$(inB cat "/sys/class/net/$B/address")
  wait_carrier a "$A" && wait_carrier b "$B"
}

# inA CMD... / inB CMD...: run in netns a / b.
inA() { ip netns exec a "$@"; }
inB() { ip netns exec b "$@"; }

# ethstat NS DEV NAME: one ethtool -S counter.
ethstat() {
  ip netns exec "$1" ethtool -S "$2" | awk -v n="$3" '$1 == n":" { print $2 }'
}

# transfer PORT FILE: send FILE from a to b over TCP; prints the SHA-256 of
# what arrived.
transfer() {
  rm -f /tmp/recv
  ip netns exec b sh -c "nc -l -p $1 > /tmp/recv" &
  local listener=$!
  sleep 0.5
  ip netns exec a nc -N -w 60 10.0.0.2 "$1" <"$2"
  wait "$listener"
  sha256sum </tmp/recv | cut -d' ' -f1
}

# send_raw NS DEV COUNT ETHERTYPE [DSTMAC]: COUNT frames of ETHERTYPE from
# DEV through a packet socket, to DSTMAC (default broadcast).
send_raw() {
  ip netns exec "$1" python3 - "$2" "$3" "$4" "${5:-ff:ff:ff:ff:ff:ff}" <<'PY'
import socket, sys
dev, n, et, dst = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 0), sys.argv[4]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
src = open(f"/sys/class/net/{dev}/address").read().strip()
hdr = bytes.fromhex(dst.replace(":", "")) + bytes.fromhex(src.replace(":", "")) + et.to_bytes(2, "big")
for i in range(n):
    s.send(hdr + b"nfp-emu frame %06d" % i + bytes(40))
PY
}
