# shellcheck shell=dash
# Offload control-plane semantics the kernel's selftest
# (tools/testing/selftests/net/bpf_offload.py) checks against netdevsim,
# checked against the nfp card: replacing with and without -force, a
# program bound to one netdev on another, XDP and tc offload exclusivity,
# moving the netdev to another namespace with a program attached, MTU
# changes against the firmware's inline MTU, driver unload with a program
# and its map on the card. Each step writes
# "NAME STATUS" to out/results.txt; the check holds the expectations.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/net.sh
. lib/guest/net.sh
mkdir -p out
modprobe nfp
A=$(port_netdev 0) B=$(port_netdev 1)
ip link set "$A" up
ip link set "$B" up
ip link add ve0 type veth peer name ve1
r() { # r NAME CMD...: run CMD, record its status
  name=$1
  shift
  "$@" >"out/$name.out" 2>&1
  echo "$name $?" | tee -a out/results.txt
}
xdp() { ip link set dev "$1" xdpoffload obj "progs/$2.o" sec xdp; }
r first-load xdp "$A" drop
r replace-no-force xdp "$A" xdp_pass
r replace-force ip -force link set dev "$A" xdpoffload obj progs/xdp_pass.o sec xdp
ip link show dev "$A" >out/after-replace.txt
ethtool -K "$A" hw-tc-offload on
tc qdisc add dev "$A" clsact
r tc-while-xdp tc filter add dev "$A" ingress bpf skip_sw da obj progs/tc_drop.o sec classifier
r xdp-off ip link set dev "$A" xdpoffload off
r tc-load tc filter add dev "$A" ingress bpf skip_sw da obj progs/tc_drop.o sec classifier
r xdp-while-tc xdp "$A" drop
tc qdisc del dev "$A" clsact
# One program, bound at load time to A (offload_dev), then attached to B:
# the other port of the same card shares A's offload device, a veth does not.
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
r bound-load bpftool prog load progs/drop.o /sys/fs/bpf/p type xdp offload_dev "$A"
r bound-attach-same-card bpftool net attach xdpoffload pinned /sys/fs/bpf/p dev "$B"
r bound-attach-veth bpftool net attach xdpoffload pinned /sys/fs/bpf/p dev ve0
bpftool net detach xdpoffload dev "$B"
rm -f /sys/fs/bpf/p
# The netdev moved to another namespace with its program and map on the
# card: the program stays attached and bound; bpftool in the old namespace
# reports the device by ifindex and namespace only, in the new one by name.
ip netns add other
r ns-load xdp "$A" map_count
r ns-move ip link set dev "$A" netns other
bpftool prog show >out/ns-progs-old.txt 2>&1
bpftool map show >out/ns-maps-old.txt 2>&1
ip netns exec other bpftool prog show >out/ns-progs-new.txt 2>&1
ip netns exec other ip link show dev "$A" >out/ns-link-new.txt 2>&1
r ns-back ip -n other link set dev "$A" netns 1
ip link show dev "$A" >out/ns-link-back.txt 2>&1
r ns-unload ip link set dev "$A" xdpoffload off
ip link set "$A" up
ip netns del other
# The inline MTU (docs/bpf-offload.md#inline-mtu): xdp_deep reads byte 2000
# of a frame, beyond the firmware's 1888; drop.c reads no packet byte.
# 3500 is a jumbo MTU whose RX buffers every kernel allocates (see
# datapath-loopback).
r mtu-deep-load xdp "$A" xdp_deep
r mtu-at-inline ip link set dev "$A" mtu 1888
r mtu-above-inline ip link set dev "$A" mtu 1889
r mtu-jumbo-deep ip link set dev "$A" mtu 3500
ip link show dev "$A" >out/mtu-after-refusal.txt
r mtu-below ip link set dev "$A" mtu 1500
r mtu-deep-off ip link set dev "$A" xdpoffload off
r mtu-shallow-load xdp "$A" drop
r mtu-jumbo-shallow ip link set dev "$A" mtu 3500
r mtu-shallow-off ip link set dev "$A" xdpoffload off
r mtu-deep-at-jumbo xdp "$A" xdp_deep
ip link set dev "$A" xdpoffload off 2>/dev/null
ip link set dev "$A" mtu 1500
# Driver unload with a program and its map on the card.
r map-load xdp "$A" map_count
bpftool map show >out/maps-before-unload.txt
r unload rmmod nfp
bpftool prog show >out/progs-after-unload.txt
bpftool map show >out/maps-after-unload.txt
r reload modprobe nfp
dmesg >out/dmesg.txt
