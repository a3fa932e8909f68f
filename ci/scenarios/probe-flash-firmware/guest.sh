# shellcheck shell=dash
# The card holds firmware in flash (nfp-emu --firmware, see nfp-vm.args) and
# the guest has no firmware file: the driver loads the stored image.
mkdir -p out
rm -f /lib/firmware/netronome/*.nffw
modprobe nfp
dmesg >out/dmesg.txt
grep -E 'nfp' out/dmesg.txt | grep -vE 'Command line|Copyright' | sed -n '1,40p'
devlink dev info | tee out/devlink-info.txt
ip -br link | tee out/ip-link.txt
# Reload: the flash firmware was not loaded by the driver, so removal does
# not reset the card and the next probe finds it running.
rmmod nfp
dmesg -C
modprobe nfp
dmesg >out/dmesg-reload.txt
ip -br link | tee out/ip-link-reload.txt
