# shellcheck shell=dash
# Sourced in the guest: Debian's firmware-netronome as Debian ships it
# (images/build step debian-firmware puts it under $DEBIAN_FW), mounted over
# /lib/firmware/netronome in place of the project's images.
#   use_debian_firmware [APP]   APP: nic (Debian's default), bpf, nic-sriov,
#                               flower: what netronome/$FW points at, as a
#                               user switches it (Debian's README.Debian)
DEBIAN_FW=/usr/lib/nfp-emu/debian-firmware
FW=nic_AMDA0099-0001_2x25.nffw
use_debian_firmware() {
  [ -d "$DEBIAN_FW/netronome" ] || {
    echo "this guest image has no Debian firmware (images/build guest, step debian-firmware)"
    return 1
  }
  mountpoint -q /lib/firmware/netronome || mount --bind "$DEBIAN_FW/netronome" /lib/firmware/netronome
  # The root file system is a throw-away snapshot: the link can change.
  ln -sfn "${1:-nic}/$FW" "$DEBIAN_FW/netronome/$FW"
  echo "netronome/$FW -> $(readlink "/lib/firmware/netronome/$FW") ($(cat "$DEBIAN_FW/package"))"
}
