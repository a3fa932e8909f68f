#!/usr/bin/env bash
# Step guest-image: the bootable guest made from guest-root: our init and the
# project's firmware files go in, then rootfs.ext4 (virtio-blk root), a small
# initramfs that mounts it, and the kernel.
# Run by images/build (step), which exports CACHE, IMAGES, TOP, MIRROR, SUITE
# and the helpers say, die and ensure_packages (ci/lib/common.sh).
set -euo pipefail
ROOT="$CACHE/guest-root"
OUT="$CACHE/guest"
NEW="$OUT.new"
kver=$(ls "$ROOT/lib/modules")
rm -rf "$NEW"
mkdir -p "$NEW"

say "  installing the guest init and firmware files"
install -m 0755 "$IMAGES/guest/nfp-vm-init" "$ROOT/sbin/nfp-vm-init"
install -m 0644 "$IMAGES/guest/profile" "$ROOT/root/.profile"
echo nfp-vm >"$ROOT/etc/hostname"
mkdir -p "$ROOT/mnt/host"
# Firmware the driver requests (netronome/*.nffw); the tree under
# $CACHE/firmware mirrors /lib/firmware.
rm -rf "$ROOT/lib/firmware/netronome"
mkdir -p "$ROOT/lib/firmware"
cp -a "$CACHE/firmware/." "$ROOT/lib/firmware/"
nfw=$( (find "$ROOT/lib/firmware/netronome" -type f 2>/dev/null || true) | wc -l)
say "  $nfw firmware file(s) under /lib/firmware/netronome"

say "  rootfs.ext4"
used_mb=$(du -sm "$ROOT" | cut -f1)
size_mb=$((used_mb * 5 / 4 + 128))
mkfs.ext4 -q -F -L nfp-vm-root -E root_owner=0:0 -d "$ROOT" "$NEW/rootfs.ext4" "${size_mb}M" >/dev/null ||
  die "mkfs.ext4 -d failed"

say "  initramfs"
stage="$NEW/initramfs"
mkdir -p "$stage"/{bin,dev,proc,sys,newroot,modules}
cp "$ROOT/bin/busybox" "$stage/bin/busybox"
install -m 0755 "$IMAGES/guest/initramfs-init" "$stage/init"
# Root file system drivers in load order (ext4 needs crc32c at mount time).
: >"$stage/modules.order"
for m in crc32c_generic crc16 mbcache jbd2 ext4 virtio_blk; do
  path=$(grep -E "(^|/)$m\.ko(\.xz)?:" "$ROOT/lib/modules/$kver/modules.dep" | cut -d: -f1 || true)
  if [[ -z $path ]]; then
    grep -qE "/$m\.ko" "$ROOT/lib/modules/$kver/modules.builtin" || die "module $m not found for $kver"
    continue
  fi
  case $path in
    *.xz) xz -dc "$ROOT/lib/modules/$kver/$path" >"$stage/modules/$m.ko" ;;
    *) cp "$ROOT/lib/modules/$kver/$path" "$stage/modules/$m.ko" ;;
  esac
  echo "$m" >>"$stage/modules.order"
done
(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$NEW/initrd.img"
rm -rf "$stage"
cp "$ROOT/boot/vmlinuz-$kver" "$NEW/vmlinuz"
echo "$kver" >"$NEW/kernel-version"
rm -rf "$OUT"
mv "$NEW" "$OUT"
say "  $OUT: kernel $kver, rootfs $(du -h --apparent-size "$OUT/rootfs.ext4" | cut -f1)"
