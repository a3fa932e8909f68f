# shellcheck shell=dash
# The guest sees the emulated NFP-4000 PF and the nfp driver probes it.
# Reports how far the probe got (milestones of docs/README.md#the-drivers-probe-step-by-step).
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/probe-milestones.sh
. lib/guest/probe-milestones.sh
mkdir -p out
machine=$(cat /sys/class/dmi/id/product_version 2>/dev/null)
echo "QEMU machine type: $machine" | tee out/machine.txt

echo "== lspci -nn -d 19ee:"
lspci -nn -d 19ee: | tee out/lspci.txt
dev=$(lspci -D -n -d 19ee:4000 | awk '{print $1; exit}')
if [ -z "$dev" ]; then
  echo "no 19ee:4000 device in the guest"
  exit 1
fi
lspci -vv -s "$dev" >out/lspci-vv.txt
for f in vendor device subsystem_vendor subsystem_device class; do
  echo "$f=$(cat "/sys/bus/pci/devices/$dev/$f")"
done | tee out/sysfs.txt

echo "== modprobe nfp"
modprobe nfp
echo "modprobe exit status $?"
drv=$(readlink "/sys/bus/pci/devices/$dev/driver" 2>/dev/null)
echo "driver bound to $dev: ${drv##*/}" | tee out/driver.txt
dmesg >out/dmesg.txt
nfp_dmesg out/dmesg.txt | head -40

echo "== probe milestones"
probe_milestones out/dmesg.txt
exit 0
