# shellcheck shell=dash
# Offloaded BPF maps (docs/maps.md, docs/maps.md#perf-events): programs on port 0 (netdev A, netns
# a)
# use maps that live on the card; the host reads and writes them with
# bpftool over the control vNIC; port 1 (B, netns b) sends the traffic.
# After sending, the script waits for the card's verdict counters to account
# for every frame before it reads maps and counters.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/net.sh
. lib/guest/net.sh
mkdir -p out
modprobe nfp
cable_namespaces noipv6 || exit 1
ip -n a link set "$A" promisc on
load() { inA ip -force link set dev "$A" xdpoffload obj "progs/$1.o" sec xdp; }
send() { inB python3 lib/guest/frames.py send "$B" "$1" --dst "$MAC_A"; }
# value of key K (hex bytes "00 00 00 00") of map NAME as a number (LE)
value() {
  # shellcheck disable=SC2086 # the key is a list of bytes
  bpftool -j map lookup name "$1" key $2 | python3 -c '
import json, sys
v = json.load(sys.stdin)["value"]
print(int.from_bytes(bytes(int(x, 16) for x in v), "little"))'
}

echo "== counters in an array map, atomically added by the program"
load map_count; echo "load $?" >out/count-load.txt
bpftool map show | tee out/count-maps.txt
v=$(verdicts)
sent=$(send 300)
settle "$v" "$sent"
bpftool map dump name counters | tee out/count-dump.txt
echo "sent $sent pkts $(value counters '0 0 0 0') bytes $(value counters '1 0 0 0') big $(value counters '2 0 0 0')" | tee out/count.txt
# the host writes a slot, the card's next adds start from it
bpftool map update name counters key 0 0 0 0 value 0 0 0 0 0 0 0 0x10
v=$(verdicts)
sent2=$(send 20)
settle "$v" "$sent2"
echo "pkts_after_update $(value counters '0 0 0 0') expected $(( (0x10 << 56) + sent2 ))" | tee -a out/count.txt

echo "== a blocklist in a hash map filled with bpftool"
load map_blocklist; echo "load $?" >out/block-load.txt
pass=$(ethstat a "$A" bpf_pass_pkts) drop=$(ethstat a "$A" bpf_app1_pkts)
v=$(verdicts); send 50 >/dev/null; settle "$v" 50
echo "before pass $(( $(ethstat a "$A" bpf_pass_pkts) - pass )) drop $(( $(ethstat a "$A" bpf_app1_pkts) - drop ))" | tee out/block.txt
# 198.51.100.2 = c6 33 64 02, the source of frames.py's traffic
bpftool map update name blocked key 0xc6 0x33 0x64 0x02 value 0 0 0 0 0 0 0 0
bpftool map update name blocked key 10 0 0 9 value 5 0 0 0 0 0 0 0
pass=$(ethstat a "$A" bpf_pass_pkts) drop=$(ethstat a "$A" bpf_app1_pkts)
v=$(verdicts); send 40 >/dev/null; settle "$v" 40
echo "listed pass $(( $(ethstat a "$A" bpf_pass_pkts) - pass )) drop $(( $(ethstat a "$A" bpf_app1_pkts) - drop )) hits $(value blocked '0xc6 0x33 0x64 0x02') other $(value blocked '10 0 0 9')" | tee -a out/block.txt
bpftool map dump name blocked | tee out/block-dump.txt
# GETNEXT from the first key of the dump gives the second (whatever order
# the card walks its table in)
first=$(grep -m1 '^key' out/block-dump.txt | sed 's/^key: *//; s/ *value.*//')
second=$(grep '^key' out/block-dump.txt | sed -n 2p | sed 's/^key: *//; s/ *value.*//')
# shellcheck disable=SC2086 # the key's bytes are separate arguments
bpftool map getnext name blocked key hex $first >out/block-getnext.txt 2>&1; echo "getnext rc $?" >>out/block-getnext.txt
echo "expected next: $second" >>out/block-getnext.txt
bpftool map delete name blocked key 0xc6 0x33 0x64 0x02
pass=$(ethstat a "$A" bpf_pass_pkts) drop=$(ethstat a "$A" bpf_app1_pkts)
v=$(verdicts); send 30 >/dev/null; settle "$v" 30
echo "deleted pass $(( $(ethstat a "$A" bpf_pass_pkts) - pass )) drop $(( $(ethstat a "$A" bpf_app1_pkts) - drop ))" | tee -a out/block.txt
bpftool map lookup name blocked key 0xc6 0x33 0x64 0x02 >out/block-lookup-deleted.txt 2>&1; echo "rc $?" >>out/block-lookup-deleted.txt
# last_len: frames.py uses UDP source ports 40000..40015; the program
# records the last length per port (update from the datapath)
bpftool map dump name last_len >out/lastlen-dump.txt
echo "entries $(grep -c '^key' out/lastlen-dump.txt)" | tee out/lastlen.txt

echo "== perf_event_output read with bpftool map event_pipe"
load map_perf; echo "load $?" >out/perf-load.txt
id=$(bpftool -j map show | python3 -c 'import json,sys; print([m["id"] for m in json.load(sys.stdin) if m.get("name") == "events"][0])')
# Line-buffered, so events reach the file as they come; the reader is
# ready once it waits in epoll for the perf buffers it has set up.
stdbuf -oL bpftool map event_pipe id "$id" >out/perf-events.txt 2>&1 &
reader=$!
reader_ready() { grep -q epoll "/proc/$reader/wchan"; }
events() { grep -c 'NFPE\|45 50 46 4e' out/perf-events.txt; }
events_at_least() { [ "$(events)" -ge "$1" ]; }
wait_for reader_ready
sent=$(send 10)
wait_for events_at_least "$sent"
kill -INT $reader 2>/dev/null; wait $reader 2>/dev/null
echo "sent $sent events $(grep -c 'NFPE\|45 50 46 4e' out/perf-events.txt)" | tee out/perf.txt
head -20 out/perf-events.txt

echo "== queue selection: the program picks RX queue 1 for every frame"
inA ethtool -L "$A" combined 2 2>/dev/null
rq() { inA ethtool -S "$A" | awk -v k="rvec_$1_rx_pkts:" '$1 == k { print $2 }'; }
rqs() { echo $(($(rq 0) + $(rq 1))); }
rqs_at_least() { [ "$(rqs)" -ge "$1" ]; }
load xdp_queue; echo "load $?" >out/queue-load.txt
q0=$(rq 0) q1=$(rq 1)
send 64 >/dev/null; wait_for rqs_at_least $((q0 + q1 + 64))
echo "q0 $(( $(rq 0) - q0 )) q1 $(( $(rq 1) - q1 ))" | tee out/queue.txt
inA ip -force link set dev "$A" xdpoffload off
# RSS over UDP ports (the 16 flows differ only there): 6.12's driver turns
# it on by default (nfp_net_common.c:2642-2645), 6.1's hashes UDP by
# addresses only (6.1 nfp_net_common.c:2316-2319), so ask for it.
inA ethtool -N "$A" rx-flow-hash udp4 sdfn
# A known Toeplitz key (the one of Microsoft's RSS verification suite):
# with the driver's random one, the hash's low bit (which picks the queue
# of 2) ignores the low 4 bits of the source port for 1 key in 16, and
# all 16 flows meet on one queue. With this key it follows the port's
# lowest bit (key bit 110 is set).
inA ethtool -X "$A" hkey 6d:5a:56:da:25:5b:0e:c2:41:67:25:3d:43:a3:8f:b0:d0:ca:2b:cb:ae:7b:30:b4:77:cb:2d:a3:80:30:f2:0c:6a:42:b7:3b:be:ac:01:fa
echo "hkey $?" >out/hkey.rc
q0=$(rq 0) q1=$(rq 1)
send 64 >/dev/null; wait_for rqs_at_least $((q0 + q1 + 64))
echo "rss_q0 $(( $(rq 0) - q0 )) rss_q1 $(( $(rq 1) - q1 ))" | tee -a out/queue.txt
load map_perf

echo "== unload frees the maps"
inA ip -force link set dev "$A" xdpoffload off
# The kernel frees a program's maps after the last reference goes, from a
# work queue: wait for that.
no_offloaded_map() { ! bpftool map show 2>/dev/null | grep -q offloaded_to; }
wait_for no_offloaded_map
bpftool map show >out/maps-after.txt 2>&1

echo "== the largest map the card allows, created and freed again and again"
# 1M elements of 64-byte keys and values (the capabilities' maximum): each
# bpftool map create is a MAP_ALLOC, removing the pin a MAP_FREE. The card
# used to run out of map memory after 33 of these. nsenter, not ip netns
# exec: the latter mounts a fresh /sys, hiding bpffs.
inAfs() { nsenter --net=/run/netns/a "$@"; }
pin=/sys/fs/bpf/big
cycles=${MAP_CYCLES:-300}
ok=0 t0=$(date +%s%N)
for i in $(seq "$cycles"); do
  inAfs bpftool map create "$pin" type hash key 64 value 64 entries 1048576 name big offload_dev "$A" 2>>out/big-errors.txt || break
  rm -f "$pin"
  ok=$i
done
t1=$(date +%s%N)
echo "cycles $cycles ok $ok ms_per_cycle $(( (t1 - t0) / 1000000 / (ok > 0 ? ok : 1) ))" | tee out/big.txt
# and the map still works: one element written and read back by the host
inAfs bpftool map create "$pin" type hash key 64 value 64 entries 1048576 name big offload_dev "$A"
key=$(seq 1 64 | tr '\n' ' ') val=$(seq 101 164 | tr '\n' ' ')
# shellcheck disable=SC2086 # the bytes are separate arguments
bpftool map update pinned "$pin" key $key value $val
# shellcheck disable=SC2086
bpftool -j map lookup pinned "$pin" key $key | python3 -c '
import json, sys
v = json.load(sys.stdin)["value"]
print("value_ok", int([int(x, 16) for x in v] == list(range(101, 165))))' | tee -a out/big.txt
echo "dump_entries $(bpftool map dump pinned "$pin" | grep -c '^key')" | tee -a out/big.txt
rm -f "$pin"
bpftool map show >out/maps-after-big.txt 2>&1
dmesg >out/dmesg.txt
grep -iE "nfp.*(bpf|map|ccm|cmsg)|NFP net bpf" out/dmesg.txt | tail -5
