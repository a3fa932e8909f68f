# shellcheck shell=dash
# A corrupt firmware file: FW_LOAD fails, the driver says so, the card keeps
# serving; with the good file back the driver probes again.
mkdir -p out
fw=/lib/firmware/netronome/nic_AMDA0099-0001_2x25.nffw
cp "$fw" /tmp/good.nffw
# Same size, ELF header kept, everything after it scrambled.
{ head -c 64 /tmp/good.nffw; tail -c +65 /tmp/good.nffw | tr '\000-\377' '\177-\377\000-\176'; } >"$fw"
echo "== modprobe nfp with a corrupt $fw"
modprobe nfp
dmesg >out/dmesg-bad.txt
grep -E 'nfp' out/dmesg-bad.txt | grep -vE 'Command line|Copyright' | sed -n '1,40p'
ls /sys/bus/pci/drivers/nfp/ >out/bound-bad.txt
rmmod nfp
cp /tmp/good.nffw "$fw"
dmesg -C
echo "== modprobe nfp with the good file back"
modprobe nfp
dmesg >out/dmesg-good.txt
grep -E 'Finished loading|CAP:' out/dmesg-good.txt
ip -br link | tee out/ip-link-good.txt
