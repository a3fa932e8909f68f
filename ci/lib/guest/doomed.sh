# shellcheck shell=dash
# Sourced by the guest.sh of the fault scenarios: traffic across the cable
# (a flood from port 1 to port 0 and a TCP stream from a to b), then
# out/traffic-flowing for the host helper, which kills a process of the VM.
# The guest is not meant to see the end of this script: it exits 1 if the
# host gave up (out/host-gave-up) or nothing happened within WAIT_LIMIT.
# shellcheck source-path=SCRIPTDIR source=net.sh
. lib/guest/net.sh
mkdir -p out
modprobe nfp
cable_namespaces noipv6 || exit 1
inB python3 lib/guest/frames.py send "$B" 0 --rate 2000 --dst "$MAC_A" >/dev/null 2>&1 &
head -c 4000000 /dev/urandom >/tmp/chunk
stream_start 5001 /tmp/chunk /tmp/never || exit 1
# Both move: frames arrive at A, bytes at b.
wait_devstat $(($(devstat a "$A" rx_packets) + 1000)) a "$A" rx_packets || exit 1
wait_devstat $(($(devstat b "$B" rx_bytes) + 1000000)) b "$B" rx_bytes || exit 1
touch out/traffic-flowing
echo "traffic flowing; waiting for the host to strike"
wait_for test -e out/host-gave-up
echo "still running: the host did not stop the VM"
exit 1
