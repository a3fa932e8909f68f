# shellcheck shell=dash
# Sourced in the guest: helpers for traffic tests across the card's ports.
#
# Tests wait for events (a counter reaching its value, a port listening, a
# file appearing), never for a guessed time: the host running the guest may
# be busy. Every wait has a deadline, WAIT_LIMIT seconds (default 300), only
# as a guard against an event that never comes.
WAIT_LIMIT=${WAIT_LIMIT:-300}

# wait_for CMD...: run CMD until it succeeds, looking again after 0.1 s,
# then 0.2, 0.5 and every second (each look and each sleep costs a TCG
# guest a process or two: a tight loop would take a vCPU from the work it
# waits for); fails (status 1, with a message on stderr) after WAIT_LIMIT
# seconds. Once a wait has failed the run is failing anyway: later waits
# give up after 30 s, so that a broken card fails a scenario in minutes,
# not after a string of full deadlines.
WAITS_FAILED=0
wait_for() {
  _wf_limit=$WAIT_LIMIT
  [ "$WAITS_FAILED" -eq 0 ] || _wf_limit=30
  _wf_end=$(($(date +%s) + _wf_limit))
  _wf_nap=0.1
  until "$@"; do
    if [ "$(date +%s)" -ge "$_wf_end" ]; then
      echo "gave up after $_wf_limit s waiting for: $*" >&2
      WAITS_FAILED=$((WAITS_FAILED + 1))
      return 1
    fi
    sleep "$_wf_nap"
    case $_wf_nap in
      0.1) _wf_nap=0.2 ;;
      0.2) _wf_nap=0.5 ;;
      *) _wf_nap=1 ;;
    esac
  done
}

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

# has_carrier NS DEV: DEV (in netns NS) has carrier.
has_carrier() {
  [ "$(ip netns exec "$1" cat "/sys/class/net/$2/carrier" 2>/dev/null)" = 1 ]
}

# wait_carrier NS DEV: wait for carrier.
wait_carrier() {
  wait_for has_carrier "$1" "$2" || { echo "no carrier on $2 in netns $1"; return 1; }
}

# both_ports: the netdevs of ports 0 and 1 are in this namespace.
both_ports() { port_netdev 0 >/dev/null && port_netdev 1 >/dev/null; }

# cable_namespaces [noipv6]: port 0's netdev into netns a as 10.0.0.1/24 and
# port 1's into netns b as 10.0.0.2/24, both up. With noipv6 the stack sends
# nothing by itself (no ND/MLD), so only the test's own frames cross.
# Sets A and B to the netdev names, MAC_A and MAC_B to their MACs.
cable_namespaces() {
  ip netns del a 2>/dev/null
  ip netns del b 2>/dev/null
  # Deleting a namespace hands its netdevs back to this one asynchronously.
  wait_for both_ports
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
  # shellcheck disable=SC2034 # for the scripts that source this file
  MAC_A=$(inA cat "/sys/class/net/$A/address")
  # shellcheck disable=SC2034
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

# ethsum NS DEV NAME...: the sum of ethtool -S counters (0 if none exists).
ethsum() {
  _es_ns=$1 _es_dev=$2
  shift 2
  ip netns exec "$_es_ns" ethtool -S "$_es_dev" |
    awk -v names=" $* " '{ n = $1; sub(":$", "", n) } index(names, " " n " ") { s += $2 } END { print s + 0 }'
}

# ethsum_at_least MIN NS DEV NAME...: ethsum NS DEV NAME... >= MIN.
ethsum_at_least() {
  _ea_min=$1
  shift
  [ "$(ethsum "$@")" -ge "$_ea_min" ]
}

# wait_ethsum MIN NS DEV NAME...: wait until the counters add up to MIN.
wait_ethsum() {
  wait_for ethsum_at_least "$@"
}

# VERDICTS: the card's BPF verdict counters (ethtool -S): XDP_PASS, then
# bpf_app1..3 = XDP_DROP, XDP_TX, XDP_ABORTED.
VERDICTS="bpf_pass_pkts bpf_app1_pkts bpf_app2_pkts bpf_app3_pkts"

# verdicts: how many frames the program on port 0 (netdev A in netns a) has
# given a verdict.
# shellcheck disable=SC2086 # VERDICTS is a list
verdicts() { ethsum a "$A" $VERDICTS; }

# settle V0 N: wait until port 0's verdicts reach V0 + N: the card has
# decided on N more frames.
# shellcheck disable=SC2086
settle() { wait_ethsum $(($1 + $2)) a "$A" $VERDICTS; }

# devstat NS DEV NAME: /sys/class/net/DEV/statistics/NAME in netns NS.
devstat() {
  ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"
}

# devstat_at_least MIN NS DEV NAME: devstat NS DEV NAME >= MIN.
devstat_at_least() {
  [ "$(devstat "$2" "$3" "$4")" -ge "$1" ]
}

# wait_devstat MIN NS DEV NAME: wait until the statistic reaches MIN.
wait_devstat() {
  wait_for devstat_at_least "$@"
}

# listening NS PORT: a TCP socket listens on PORT in netns NS.
listening() {
  ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .
}

# transfer PORT FILE: send FILE from a to b over TCP; prints the SHA-256 of
# what arrived.
transfer() {
  rm -f /tmp/recv
  ip netns exec b sh -c "nc -l -p $1 > /tmp/recv" &
  _tr_listener=$!
  wait_for listening b "$1"
  ip netns exec a nc -N -w 60 10.0.0.2 "$1" <"$2"
  wait "$_tr_listener"
  sha256sum </tmp/recv | cut -d' ' -f1
}

# stream_start PORT CHUNK STOP: from a to b over TCP, send the file CHUNK
# again and again until the file STOP exists, so the stream lasts as long
# as whatever the caller does meanwhile; the receiver keeps only the byte
# count and SHA-256. stream_wait (not in a subshell: it waits for the
# stream's processes) then sets STREAM_SENT ("SHA BYTES" of what was sent),
# STREAM_RECEIVED ("SHA BYTES" of what arrived) and STREAM_STATUS (the
# sender's nc).
stream_start() {
  rm -f /tmp/stream.n /tmp/stream.rx /tmp/stream.tx "$3"
  STREAM_CHUNK=$2
  ip netns exec b sh -c "nc -l -p $1 | python3 -c '
import hashlib, sys
h, n = hashlib.sha256(), 0
while True:
    b = sys.stdin.buffer.read(1 << 16)
    if not b:
        break
    h.update(b)
    n += len(b)
print(h.hexdigest(), n)' >/tmp/stream.rx" &
  STREAM_RX=$!
  wait_for listening b "$1" || return 1
  # shellcheck disable=SC2016 # expanded by the inner shell
  ip netns exec a sh -c 'n=0
    while cat "$1"; do n=$((n + 1)); echo $n >/tmp/stream.n; [ -e "$2" ] && break; done |
      nc -N 10.0.0.2 "$3"
    echo $? >/tmp/stream.tx' sh "$2" "$3" "$1" &
  STREAM_TX=$!
}

stream_wait() {
  wait "$STREAM_TX"
  wait "$STREAM_RX"
  _sw_n=$(cat /tmp/stream.n)
  _sw_sha=$(_i=0; while [ "$_i" -lt "$_sw_n" ]; do cat "$STREAM_CHUNK"; _i=$((_i + 1)); done |
    sha256sum | cut -d' ' -f1)
  # shellcheck disable=SC2034 # for the caller
  STREAM_SENT="$_sw_sha $((_sw_n * $(stat -c %s "$STREAM_CHUNK")))"
  # shellcheck disable=SC2034
  STREAM_RECEIVED=$(cat /tmp/stream.rx)
  # shellcheck disable=SC2034
  STREAM_STATUS=$(cat /tmp/stream.tx)
}

# ping_ok NS ADDR: ADDR answers a ping from netns NS (one reply is enough;
# the ping keeps trying for WAIT_LIMIT seconds).
ping_ok() {
  ip netns exec "$1" ping -c 1 -w "$WAIT_LIMIT" "$2" >/dev/null
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
