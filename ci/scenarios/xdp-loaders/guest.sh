# shellcheck shell=dash
# The loaders people use, each offloading drop.c to port 0 (netdev A, netns
# a) and unloading it, with port 1 (B, netns b) sending: iproute2's
# xdpoffload (the reference), bpftool (prog load ... offload_dev, net
# attach xdpoffload, net detach), a libbpf program
# (progs/user/xdp_offload_load: bpf_program__set_ifindex, bpf_xdp_attach
# with XDP_FLAGS_HW_MODE) and xdp-tools' xdp-loader (load -m hw, unload). For each: out/LOADER.txt with the load status,
# what ip link shows, the frames the stack got with the program and after
# unloading it.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/net.sh
. lib/guest/net.sh
mkdir -p out
modprobe nfp
cable_namespaces noipv6 || exit 1
ip -n a link set "$A" promisc on
rxA() { inA cat "/sys/class/net/$A/statistics/rx_packets"; }
# stack_gets N: send N frames from B, wait until the card has given a
# verdict on each (or, without a program, the stack has them); print how
# many reached A's stack.
stack_gets() {
  rx=$(rxA) v=$(verdicts)
  sent=$(inB python3 lib/guest/frames.py send "$B" "$1" --dst "$MAC_A")
  if inA ip link show dev "$A" | grep -q prog/xdp; then
    settle "$v" "$sent"
  else
    wait_devstat $((rx + sent)) a "$A" rx_packets
  fi
  echo $(( $(rxA) - rx ))
}
# try LOADER LOAD-CMD UNLOAD-CMD
try() {
  echo "== $1"
  inA sh -c "$2" >"out/$1-load.out" 2>&1
  echo "load $?" >"out/$1.txt"
  cat "out/$1-load.out"
  # ip link: the mode on the first line (xdp, xdpgeneric, xdpoffload), the
  # program id on the prog/xdp line.
  inA ip link show dev "$A" >"out/$1-link.txt"
  echo "attached $(grep -oE ' xdp[a-z]* ' "out/$1-link.txt" | tr -d ' ') $(grep -oE 'prog/xdp id [0-9]+' "out/$1-link.txt")" >>"out/$1.txt"
  echo "with $(stack_gets 100)" >>"out/$1.txt"
  inA sh -c "$3" >>"out/$1-load.out" 2>&1
  echo "unload $?" >>"out/$1.txt"
  inA ip link show dev "$A" | grep -q prog/xdp && echo "still attached" >>"out/$1.txt"
  echo "without $(stack_gets 50)" >>"out/$1.txt"
  cat "out/$1.txt"
}
try iproute2 "ip link set dev $A xdpoffload obj progs/drop.o sec xdp" \
  "ip link set dev $A xdpoffload off"
# bpftool pins in bpffs: one mount namespace (one ip netns exec) for all of it.
try bpftool "mount -t bpf bpf /sys/fs/bpf && bpftool prog load progs/drop.o /sys/fs/bpf/drop type xdp offload_dev $A &&
  bpftool net attach xdpoffload pinned /sys/fs/bpf/drop dev $A && rm /sys/fs/bpf/drop" \
  "bpftool net detach xdpoffload dev $A"
try libbpf "progs/user/xdp_offload_load progs/drop.o $A" "progs/user/xdp_offload_load -d $A"
# xdp-tools (libxdp) wants bpffs for its dispatcher state.
try xdp-loader "mount -t bpf bpf /sys/fs/bpf && xdp-loader load -m hw -s xdp $A progs/drop.o" \
  "mount -t bpf bpf /sys/fs/bpf && xdp-loader unload -a $A"
