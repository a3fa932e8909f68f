#!/usr/bin/env bash
# Step guest-base: the guest's Debian trixie userland and 6.12 kernel.
# Run by images/build (step), which exports CACHE, IMAGES, TOP, MIRROR, SUITE
# and the helpers say, die and ensure_packages (ci/lib/common.sh).
set -euo pipefail
ROOT="$CACHE/guest-root"
NEW="$ROOT.new"
rm -rf "$NEW"
pkgs=$(grep -v '^#' "$IMAGES/guest-packages.txt" | xargs | tr ' ' ,)
say "  debootstrap $SUITE with $pkgs (about 2 min)"
debootstrap --variant=minbase --include="$pkgs" "$SUITE" "$NEW" "$MIRROR" >"$CACHE/guest-base.log" 2>&1 ||
  die "debootstrap failed; see $CACHE/guest-base.log"
chroot "$NEW" apt-get clean
# Trim what a test guest never reads; Debian's own initrd is replaced by ours.
rm -rf "$NEW"/usr/share/{doc,man,info,locale}/* "$NEW"/var/lib/apt/lists/* "$NEW"/boot/initrd.img-*
kver=$(ls "$NEW/lib/modules")
[[ -f $NEW/boot/vmlinuz-$kver && -f $NEW/lib/modules/$kver/kernel/drivers/net/ethernet/netronome/nfp/nfp.ko.xz ]] ||
  die "kernel $kver or its nfp.ko is missing from the guest root"
say "  kernel $kver with nfp.ko"
rm -rf "$ROOT"
mv "$NEW" "$ROOT"
