# shellcheck shell=dash
# XDP offload (issue: flow processor). Port 1 (netdev B, netns b) is cabled
# to port 0 (netdev A, netns a), which carries the offloaded programs; B
# sends the traffic. Results go to out/ for the host-side check. After
# sending, the script waits for the card's verdict counters to account for
# every frame (and for the stack to have them, where they pass) before it
# reads the counters.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/net.sh
. lib/guest/net.sh
mkdir -p out
modprobe nfp
cable_namespaces noipv6 || exit 1
ip -n a link set "$A" promisc on
ip -n b link set "$B" promisc on
sA() { ethstat a "$A" "$1"; }
sB() { ethstat b "$B" "$1"; }
rxA() { inA cat "/sys/class/net/$A/statistics/rx_packets"; }
rxB() { inB cat "/sys/class/net/$B/statistics/rx_packets"; }
load() { # load NS DEV PROG
  ip netns exec "$1" ip -force link set dev "$2" xdpoffload obj "progs/$3.o" sec xdp
}

echo "== drop.c (the Getting Started Guide's program)"
load a "$A" drop; echo "load $?" >out/drop-load.txt
inA ip link show dev "$A" | tee out/drop-link.txt
bpftool prog show | tee out/drop-bpftool.txt
app1=$(sA bpf_app1_pkts) rx=$(rxA) v=$(verdicts)
sent=$(inB python3 lib/guest/frames.py send "$B" 200 --dst "$MAC_A")
settle "$v" "$sent"
echo "sent $sent app1 $(( $(sA bpf_app1_pkts) - app1 )) stack $(( $(rxA) - rx ))" | tee out/drop.txt

echo "== XDP_PASS"
load a "$A" xdp_pass; echo "load $?" >out/pass-load.txt
pass=$(sA bpf_pass_pkts) rx=$(rxA) v=$(verdicts)
sent=$(inB python3 lib/guest/frames.py send "$B" 100 --dst "$MAC_A")
settle "$v" "$sent"
wait_devstat $((rx + sent)) a "$A" rx_packets
echo "sent $sent pass $(( $(sA bpf_pass_pkts) - pass )) stack $(( $(rxA) - rx ))" | tee out/pass.txt

echo "== XDP_TX with MAC addresses swapped"
load a "$A" xdp_tx_swap; echo "load $?" >out/tx-load.txt
app2=$(sA bpf_app2_pkts) rx=$(rxA) v=$(verdicts)
inB python3 lib/guest/frames.py swapcheck "$B" 100 --dst "$MAC_A" | tee out/tx-frames.txt
settle "$v" 100
echo "app2 $(( $(sA bpf_app2_pkts) - app2 )) stack $(( $(rxA) - rx ))" | tee out/tx.txt

echo "== XDP_ABORTED"
load a "$A" xdp_aborted; echo "load $?" >out/aborted-load.txt
app3=$(sA bpf_app3_pkts) rx=$(rxA) v=$(verdicts)
sent=$(inB python3 lib/guest/frames.py send "$B" 100 --dst "$MAC_A")
settle "$v" "$sent"
echo "sent $sent app3 $(( $(sA bpf_app3_pkts) - app3 )) stack $(( $(rxA) - rx ))" | tee out/aborted.txt

echo "== replacing DROP and PASS 20 times while traffic flows"
# The sender runs until the swaps are done; after each load the script waits
# for the new program's counter to move, so every swap meets live traffic.
load a "$A" xdp_pass
pass=$(sA bpf_pass_pkts) app1=$(sA bpf_app1_pkts) mac=$(sA mac.rx_frames_received_ok)
app2=$(sA bpf_app2_pkts) app3=$(sA bpf_app3_pkts) rx=$(rxA) v=$(verdicts)
rm -f out/sending out/swaps-done
inB python3 lib/guest/frames.py send "$B" 0 --rate 1000 --dst "$MAC_A" --started out/sending \
  --until out/swaps-done >out/load-sent.txt &
sender=$!
sender_started() { [ -e out/sending ] || ! kill -0 $sender 2>/dev/null; }
wait_for sender_started
[ -e out/sending ] || { echo "the sender did not start"; exit 1; }
fails=0
for _ in $(seq 10); do
  n=$(sA bpf_app1_pkts)
  load a "$A" drop || fails=$((fails + 1))
  wait_ethsum $((n + 1)) a "$A" bpf_app1_pkts || fails=$((fails + 1))
  n=$(sA bpf_pass_pkts)
  load a "$A" xdp_pass || fails=$((fails + 1))
  wait_ethsum $((n + 1)) a "$A" bpf_pass_pkts || fails=$((fails + 1))
done
running=0; kill -0 $sender 2>/dev/null && running=1
touch out/swaps-done
wait $sender
sent=$(cat out/load-sent.txt)
wait_ethsum $((mac + sent)) a "$A" mac.rx_frames_received_ok
settle "$v" "$sent"
p=$(( $(sA bpf_pass_pkts) - pass )) d=$(( $(sA bpf_app1_pkts) - app1 ))
echo "sent $sent mac $(( $(sA mac.rx_frames_received_ok) - mac )) pass $p drop $d failed_loads $fails traffic_outlasted_swaps $running tx $(( $(sA bpf_app2_pkts) - app2 )) aborted $(( $(sA bpf_app3_pkts) - app3 )) stack $(( $(rxA) - rx ))" | tee out/replace.txt
inA ethtool -S "$A" >out/replace-ethtool.txt

echo "== a program on each vNIC"
load a "$A" drop; load b "$B" xdp_pass
app1=$(sA bpf_app1_pkts) passB=$(sB bpf_pass_pkts) rxb=$(rxB)
inB python3 lib/guest/frames.py send "$B" 50 --dst "$MAC_A" >/dev/null
inA python3 lib/guest/frames.py send "$A" 70 --dst "$MAC_B" >/dev/null
wait_ethsum $((app1 + 50)) a "$A" bpf_app1_pkts
wait_ethsum $((passB + 70)) b "$B" bpf_pass_pkts
wait_devstat $((rxb + 70)) b "$B" rx_packets
echo "a_drop $(( $(sA bpf_app1_pkts) - app1 )) b_pass $(( $(sB bpf_pass_pkts) - passB )) b_stack $(( $(rxB) - rxb ))" | tee out/both.txt
inB ip -force link set dev "$B" xdpoffload off

echo "== xdpoffload off"
inA ip -force link set dev "$A" xdpoffload off; echo "off $?" >out/off-load.txt
inA ip link show dev "$A" >out/off-link.txt
all=0; for c in bpf_pass_pkts bpf_app1_pkts bpf_app2_pkts bpf_app3_pkts; do all=$((all + $(sA $c))); done
rx=$(rxA)
sent=$(inB python3 lib/guest/frames.py send "$B" 30 --dst "$MAC_A")
wait_devstat $((rx + sent)) a "$A" rx_packets
now=0; for c in bpf_pass_pkts bpf_app1_pkts bpf_app2_pkts bpf_app3_pkts; do now=$((now + $(sA $c))); done
echo "sent $sent bpf $((now - all)) stack $(( $(rxA) - rx ))" | tee out/off.txt

echo "== tc cls_bpf skip_sw (direct action, TC_ACT_SHOT)"
inA ethtool -K "$A" hw-tc-offload on
inA tc qdisc add dev "$A" clsact
inA tc filter add dev "$A" ingress bpf skip_sw da obj progs/tc_drop.o sec classifier; echo "load $?" >out/tc-load.txt
inA tc filter show dev "$A" ingress | tee -a out/tc-load.txt
app1=$(sA bpf_app1_pkts) rx=$(rxA) v=$(verdicts)
sent=$(inB python3 lib/guest/frames.py send "$B" 40 --dst "$MAC_A")
settle "$v" "$sent"
echo "sent $sent app1 $(( $(sA bpf_app1_pkts) - app1 )) stack $(( $(rxA) - rx ))" | tee out/tc.txt
inA tc qdisc del dev "$A" clsact

echo "== a program larger than the card's code store"
load a "$A" xdp_big >out/big-load.txt 2>&1; echo "rc $?" >>out/big-load.txt
cat out/big-load.txt
dmesg >out/dmesg.txt
grep -E "NFP net bpf|nfp.*(BPF|bpf)" out/dmesg.txt | tail -5
