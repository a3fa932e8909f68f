#!/usr/bin/env bash
# Step guest-kernel-$KERNEL: the guest with another Debian kernel than the
# default (trixie's), for the kernel matrix (images/build --kernel,
# ci/kernel-matrix). The trixie userland of guest-root gets the kernel of
# Debian's linux-image-amd64 from suite $KERNEL_SUITE (bookworm: 6.1,
# trixie-backports: the newest packaged kernel), unpacked as Debian ships it
# (vmlinuz, modules, its own nfp.ko), in place of trixie's. The variant's
# cache is $CACHE/kernels/$KERNEL: guest-root (that root), firmware and
# debian-firmware (links to the main cache's) and guest/ (vmlinux,
# initrd.img, rootfs.ext4, kernel-version), made by guest-image.sh exactly as
# the default guest is.
# Run by images/build (step), which exports CACHE, IMAGES, TOP, MIRROR, SUITE,
# KERNEL, KERNEL_SUITE and the helpers say, die and ensure_packages
# (ci/lib/common.sh).
set -euo pipefail
VCACHE="${CACHE:?}/kernels/${KERNEL:?}"
ROOT="$VCACHE/guest-root"
NEW="$ROOT.new"
mkdir -p "$VCACHE"
work=$(mktemp -d "${TMPDIR:-/tmp}/nfp-emu-kernel.XXXXXX")
trap 'rm -rf "$work" "$NEW"' EXIT
chmod 755 "$work" # apt fetches as _apt
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $KERNEL_SUITE main" \
  >"$work/sources.list"
# A private apt state with only that suite: the host's own sources and lists
# stay as they are, and the suite's linux-image-amd64 is the candidate.
apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1)
say "  apt-get update ($KERNEL_SUITE main)"
apt-get "${apt_opts[@]}" -qq update || die "apt-get update of $KERNEL_SUITE failed"
# The metapackage names the versioned kernel package(s): bookworm's
# linux-image-<abi>-amd64 holds vmlinuz and modules; newer suites split it
# into linux-base-, linux-binary- and linux-modules-<version>-amd64. Follow
# the linux-* dependencies and fetch every versioned one.
todo=(linux-image-amd64) seen=() debs=()
while ((${#todo[@]})); do
  p=${todo[0]}
  todo=("${todo[@]:1}")
  [[ " ${seen[*]} " == *" $p "* ]] && continue
  seen+=("$p")
  if [[ $p =~ ^linux-[a-z]+-[0-9] ]]; then debs+=("$p"); fi
  while read -r d; do
    [[ $d =~ ^linux-[a-z]+-([0-9].*-)?amd64$ ]] && todo+=("$d")
  done < <(apt-cache "${apt_opts[@]}" depends --no-recommends --no-suggests "$p" |
    sed -n 's/^ *|\{0,1\}Depends: \([^ <]*\).*/\1/p')
done
((${#debs[@]})) || die "linux-image-amd64 of $KERNEL_SUITE names no versioned kernel package"
say "  $KERNEL_SUITE: ${debs[*]}"
(cd "$work" && apt-get "${apt_opts[@]}" -qq download "${debs[@]}") || die "apt-get download ${debs[*]} failed"
kpkg=${debs[0]}

say "  $NEW: guest-root with $kpkg in place of $(ls "$CACHE/guest-root/lib/modules")"
rm -rf "$NEW"
cp -a "$CACHE/guest-root" "$NEW"
rm -rf "$NEW"/lib/modules/* "$NEW"/boot/vmlinuz-* "$NEW"/boot/config-* "$NEW"/boot/System.map-* \
  "$NEW"/vmlinuz "$NEW"/vmlinuz.old "$NEW"/initrd.img "$NEW"/initrd.img.old
# Unpacked, not installed: the guest boots our initramfs, so the package's
# maintainer scripts (initramfs generation) have nothing to do. An older
# suite's package ships /lib/modules while the root's /lib is trixie's
# usr-merge link to usr/lib: tar keeps that link and extracts through it.
for deb in "$work"/*.deb; do
  dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$NEW" ||
    die "unpacking $(basename "$deb") failed"
done
kver=$(ls "$NEW/lib/modules")
[[ $(wc -w <<<"$kver") -eq 1 ]] || die "expected one kernel under lib/modules, found: $kver"
nfp=$(find "$NEW/lib/modules/$kver/kernel/drivers/net/ethernet/netronome/nfp" -name 'nfp.ko*' | head -1)
# Newer packages ship the kernel as lib/modules/<version>/vmlinuz (their
# postinst links it into /boot); guest-image.sh takes it from /boot.
if [[ ! -f $NEW/boot/vmlinuz-$kver && -f $NEW/lib/modules/$kver/vmlinuz ]]; then
  cp "$NEW/lib/modules/$kver/vmlinuz" "$NEW/boot/vmlinuz-$kver"
fi
[[ -f $NEW/boot/vmlinuz-$kver && -n $nfp ]] || die "kernel $kver or its nfp.ko is missing from ${debs[*]}"
chroot "$NEW" depmod "$kver" || die "depmod $kver failed"
(cd "$work" && ls -- *.deb) >"$NEW/etc/nfp-emu-kernel-package"
rm -rf "$ROOT"
mv "$NEW" "$ROOT"

# guest-image.sh refuses a root file system module of its list that the
# kernel neither has nor builds in. Newer kernels dropped crc32c_generic
# (ext4 gets crc32c from lib/crc, a dependency the initramfs step below
# adds): such a name is entered in the variant's modules.builtin, so that
# guest-image.sh skips it.
for m in crc32c_generic crc16 mbcache jbd2 ext4 virtio_blk; do
  if ! grep -qE "(^|/)$m\.ko" "$ROOT/lib/modules/$kver/modules.dep" "$ROOT/lib/modules/$kver/modules.builtin"; then
    say "  $kver has no module $m"
    echo "kernel/absent/$m.ko" >>"$ROOT/lib/modules/$kver/modules.builtin"
  fi
done

# The rest is the default guest's recipe, pointed at the variant's cache.
ln -sfn "$CACHE/firmware" "$VCACHE/firmware"
ln -sfn "$CACHE/debian-firmware" "$VCACHE/debian-firmware"
CACHE="$VCACHE" bash "$IMAGES/guest-image.sh" || die "guest image for $kver failed"

# guest-image.sh's initramfs loads a fixed list of root file system modules
# (trixie's kernel builds their dependencies in). Another kernel may build
# them as modules (bookworm's 6.1: virtio, virtio_ring), so the variant's
# initramfs gets a second cpio archive (the kernel unpacks concatenated
# archives in order, later files replacing earlier ones) with every module
# of the list's dependency closure and a modules.order listing dependencies
# first, with what 6.1 builds as modules and trixie's kernel builds in:
# virtio_pci (the transport; without it virtio_blk finds no device) and
# virtio_console (hvc0, where nfp-vm-init reports the script's status).
say "  initramfs: the root file system modules' dependencies"
stage="$work/initramfs"
mkdir -p "$stage/modules"
python3 - "$ROOT/lib/modules/$kver" "$stage" <<'PY' || die "resolving the initramfs modules of $kver failed"
import lzma, os, sys
moddir, stage = sys.argv[1], sys.argv[2]
want = ["crc32c_generic", "crc16", "mbcache", "jbd2", "ext4", "virtio_pci", "virtio_blk", "virtio_console"]
dep = {}
for line in open(os.path.join(moddir, "modules.dep")):
    path, _, rest = line.partition(":")
    dep[path] = rest.split()
name = lambda p: os.path.basename(p).split(".ko")[0].replace("-", "_")
byname = {name(p): p for p in dep}
out = []
def visit(p):
    for d in dep.get(p, []):
        visit(d)
    if p not in out:
        out.append(p)
for m in want:
    if m in byname:
        visit(byname[m])
with open(os.path.join(stage, "modules.order"), "w") as order:
    for p in out:
        data = open(os.path.join(moddir, p), "rb").read()
        if p.endswith(".xz"):
            data = lzma.decompress(data)
        elif p.endswith(".zst"):
            sys.exit(f"{p}: zstd modules are not handled")
        open(os.path.join(stage, "modules", name(p) + ".ko"), "wb").write(data)
        order.write(name(p) + "\n")
PY
(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >>"$VCACHE/guest/initrd.img"
say "  initramfs modules: $(xargs <"$stage/modules.order")"
say "  kernel $kver ($(xargs <"$ROOT/etc/nfp-emu-kernel-package")) with $(basename "$nfp")"
