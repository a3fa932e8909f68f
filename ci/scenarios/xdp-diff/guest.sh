# shellcheck shell=dash
# Differential fidelity of the XDP offload: every program of ci/progs/diff
# runs offloaded on port 0 (netdev A, netns a) on frames sent from port 1
# (netdev B, netns b, cabled to port 0), and on the guest CPU
# (BPF_PROG_TEST_RUN on the non-offloaded copy); verdicts and output frames
# must be identical. lib/guest/xdp_diff.py does the work and prints the
# table; out/xdp-diff/summary.json is for the check.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/net.sh
. lib/guest/net.sh
mkdir -p out
modprobe nfp
cable_namespaces noipv6 || exit 1
# No addresses: neither stack may send anything of its own while frames are
# compared. Promiscuous mode: the programs rewrite MAC addresses.
ip -n a addr flush dev "$A"
ip -n b addr flush dev "$B"
for ns_dev in "a $A" "b $B"; do
  # shellcheck disable=SC2086 # "NS DEV"
  set -- $ns_dev
  ip -n "$1" link set "$2" promisc on
  # room for frames grown by adjust_head (1514 + 84 bytes)
  ip -n "$1" link set "$2" mtu 1700
  ip netns exec "$1" ethtool -K "$2" gro off rxvlan off txvlan off >/dev/null 2>&1
done
wait_carrier a "$A" && wait_carrier b "$B" || exit 1
# shellcheck disable=SC2086 # XDP_DIFF_ARGS: extra options, split into words
python3 lib/guest/xdp_diff.py run --progs progs/diff --out out/xdp-diff \
  --ns-a a --dev-a "$A" --ns-b b --dev-b "$B" ${XDP_DIFF_ARGS:-}
status=$?
dmesg >out/dmesg.txt
exit $status
