# shellcheck shell=dash
# A hostile guest (issue #8): with the nfp driver unbound, Python on the PCI
# resource file of BAR0 (lib/guest/hostile.py) (a) writes one word per
# 4 KiB page all over the MU's 40-bit address space, (b) writes an
# unimplemented register as fast as it can; then the driver binds again and
# the card works. The host helper watches nfp-emu's memory and log (see
# host); the bounds are in ./bounds.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/net.sh
. lib/guest/net.sh
# shellcheck source-path=SCRIPTDIR source=bounds
. ./bounds
mkdir -p out
modprobe nfp
dev=$(lspci -D -n -d 19ee:4000 | awk '{print $1; exit}')
[ -n "$dev" ] || { echo "no 19ee:4000 device"; exit 1; }
echo "$dev" >/sys/bus/pci/drivers/nfp/unbind || exit 1

echo "== (a) one word per 4 KiB page over the MU's 40-bit space: $ATTACK_PAGES pages"
python3 lib/guest/hostile.py mu-pages "$dev" "$ATTACK_PAGES" --stop out/stop-attack | tee out/attack-mu.txt

echo "== (b) $LOG_ATTACK_SECONDS s of writes to an unimplemented register"
# The host notes the log's size before the first write and after the last.
touch out/log-attack-ready
wait_for test -e out/host-log-start || exit 1
python3 lib/guest/hostile.py log-flood "$dev" "$LOG_ATTACK_SECONDS" --done out/log-attack-done |
  tee out/attack-log.txt
wait_for test -e out/host-log-end || exit 1

echo "== the driver binds again and the card works"
if echo "$dev" >/sys/bus/pci/drivers/nfp/bind; then rc=0; else rc=1; fi
echo "bind $rc" | tee out/rebind.txt
cable_namespaces noipv6 || exit 1
ping_ok a 10.0.0.2
echo "ping $?" | tee -a out/rebind.txt
head -c 2000000 /dev/urandom >/tmp/data
sha256sum </tmp/data | cut -d' ' -f1 >out/sent.sha
transfer 5001 /tmp/data >out/recv.sha
echo "transfer: sent $(cat out/sent.sha) received $(cat out/recv.sha)"
dmesg >out/dmesg.txt
