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
# Debian's firmware-netronome as shipped (step debian-firmware), beside the
# project's images: /usr/lib/nfp-emu/debian-firmware/netronome; a scenario
# mounts it over /lib/firmware/netronome (lib/guest/debian-firmware.sh).
DEBFW="$ROOT/usr/lib/nfp-emu/debian-firmware"
rm -rf "$DEBFW"
if [[ -d $CACHE/debian-firmware/usr/lib/firmware/netronome ]]; then
  mkdir -p "$DEBFW"
  cp -a "$CACHE/debian-firmware/usr/lib/firmware/netronome" "$DEBFW/"
  cp "$CACHE/debian-firmware/package" "$DEBFW/package"
  say "  Debian's $(cat "$DEBFW/package") under /usr/lib/nfp-emu/debian-firmware"
fi

# Modules the guests load at every boot or for every scenario, and what they
# depend on, decompressed: Debian ships them xz-compressed, and unpacking
# them in a TCG guest cost seconds of every boot (9p before the share is
# mounted, nfp at each modprobe). modules.dep is then rebuilt by the guest's
# own depmod.
say "  decompressing the modules guests load"
moddir="$ROOT/lib/modules/$kver"
mapfile -t mods < <(python3 - "$moddir/modules.dep" nfp 9p 9pnet_virtio sch_ingress cls_bpf act_gact act_bpf <<'PY'
import os, sys
dep = {}
for line in open(sys.argv[1]):
    path, _, rest = line.partition(":")
    dep[path] = rest.split()
byname = {os.path.basename(p).split(".ko")[0].replace("-", "_"): p for p in dep}
todo = [byname[m] for m in sys.argv[2:] if m in byname]
seen = set()
while todo:
    p = todo.pop()
    if p not in seen:
        seen.add(p)
        todo.extend(dep.get(p, []))
print("\n".join(sorted(p for p in seen if p.endswith(".xz"))))
PY
)
for m in "${mods[@]}"; do
  [[ -n $m ]] && xz -d -f "$moddir/$m"
done
chroot "$ROOT" depmod "$kver" || die "depmod in the guest root failed"
say "  ${#mods[@]} module(s) decompressed"

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
# The same kernel uncompressed, an ELF with a PVH entry point (CONFIG_PVH):
# QEMU boots it directly, skipping the bzImage's real-mode setup and its
# decompressor (seconds of every TCG boot). The payload's place and length
# are in the bzImage's setup header (Documentation/arch/x86/boot.rst:
# setup_sects at 0x1f1, payload_offset/payload_length at 0x248/0x24c); its
# last 4 bytes are the uncompressed size, not part of the stream.
python3 - "$NEW/vmlinuz" "$NEW/vmlinux" <<'PY' || die "cannot extract vmlinux from the guest kernel"
import struct, subprocess, sys
b = open(sys.argv[1], "rb").read()
setup_sects = b[0x1F1] or 4
off, length = struct.unpack_from("<II", b, 0x248)
start = (setup_sects + 1) * 512 + off
payload = b[start:start + length]
magic = {b"\x28\xb5\x2f\xfd": ["zstd", "-dcq"], b"\xfd7zXZ": ["xz", "-dcq"], b"\x1f\x8b": ["gzip", "-dcq"]}
cmd = next((c for m, c in magic.items() if payload.startswith(m)), None)
if cmd is None:
    sys.exit(f"unknown kernel compression {payload[:6].hex()}")
out = subprocess.run(cmd, input=payload[:-4], capture_output=True).stdout
if not out.startswith(b"\x7fELF"):
    sys.exit("the kernel payload is not an ELF image")
open(sys.argv[2], "wb").write(out)
PY
echo "$kver" >"$NEW/kernel-version"
rm -rf "$OUT"
mv "$NEW" "$OUT"
say "  $OUT: kernel $kver, rootfs $(du -h --apparent-size "$OUT/rootfs.ext4" | cut -f1)"
