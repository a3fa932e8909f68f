# shellcheck shell=dash
# Timing model (docs/timing.md). Programs are offloaded one after the other
# on port 0 (netdev A, netns a) while port 1 (B, netns b) sends traffic;
# nfp-vm --timing makes the card write one record per packet
# (RUN_DIR/timing0.jsonl) and its per-program profiles
# (RUN_DIR/profile0.json). The host-side check holds them against the BPF
# counters the guest read here. While the card runs, the host side (host)
# talks to the card's live monitor socket (RUN_DIR/monitor0.sock): during
# xdp_tx_swap it records port 0 into a pcap and traces 20 packets, and
# with every program run it queries the programs' estimates. The two sides
# meet through files in out/: the guest says capture-ready and
# query-ready, the host answers capture-on, capture-done and query-done
# (or host-gave-up).
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/net.sh
. lib/guest/net.sh
mkdir -p out
modprobe nfp
cable_namespaces noipv6 || exit 1
ip -n a link set "$A" promisc on
sA() { ethstat a "$A" "$1"; }
load() { inA ip -force link set dev "$A" xdpoffload obj "progs/$1.o" sec xdp; }
# Frames the offloaded programs have seen: every BPF verdict counter.
seen() { echo $(( $(sA bpf_pass_pkts) + $(sA bpf_app1_pkts) + $(sA bpf_app2_pkts) + $(sA bpf_app3_pkts) )); }
# wait_seen N: until the counters reach N (a guard of 120 s, not a wait).
wait_seen() {
  for _ in $(seq 1200); do
    [ "$(seen)" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

# host_says FILE: wait until the host has created out/FILE (or given up).
host_says() {
  wait_for test -e "out/$1" -o -e out/host-gave-up || return 1
  [ -e "out/$1" ]
}

echo "start $(seen)" >out/counts.txt
for p in drop:200 xdp_pass:150 xdp_tx_swap:120 map_count:100; do
  name=${p%:*} n=${p#*:}
  load "$name"; echo "load $name $?" >>out/load.txt
  before=$(seen)
  if [ "$name" = xdp_tx_swap ]; then
    touch out/capture-ready
    host_says capture-on || echo "the host did not start the capture" >>out/load.txt
  fi
  sent=$(inB python3 lib/guest/frames.py send "$B" "$n" --dst "$MAC_A")
  wait_seen $((before + sent)) || echo "timeout waiting for $name's frames" >>out/load.txt
  echo "prog $name sent $sent seen $(( $(seen) - before ))" | tee -a out/counts.txt
  if [ "$name" = xdp_tx_swap ]; then
    echo "$(( $(seen) - before ))" >out/capture-sent
    host_says capture-done || echo "the host did not stop the capture" >>out/load.txt
  fi
done
# Every program has run: the host asks the monitor for the estimates.
touch out/query-ready
host_says query-done || echo "the host did not query the monitor" >>out/load.txt
inA ip -force link set dev "$A" xdpoffload off
echo "end $(seen)" | tee -a out/counts.txt
