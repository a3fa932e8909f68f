#!/usr/bin/env bash
# Step host-root: Debian trixie with qemu-system-x86 from trixie-backports
# (Debian 12's QEMU has no vfio-user-pci). QEMU runs chrooted in it.
# Run by images/build (step), which exports CACHE, IMAGES, TOP, MIRROR, SUITE
# and the helpers say, die and ensure_packages (ci/lib/common.sh).
set -euo pipefail
ROOT="$CACHE/host-root"
NEW="$ROOT.new"
rm -rf "$NEW"
say "  debootstrap $SUITE into $NEW (about 30 s)"
debootstrap --variant=minbase "$SUITE" "$NEW" "$MIRROR" >"$CACHE/host-root.log" 2>&1 ||
  die "debootstrap failed; see $CACHE/host-root.log"
echo "deb $MIRROR $SUITE-backports main" >"$NEW/etc/apt/sources.list.d/backports.list"
say "  apt-get install -t $SUITE-backports qemu-system-x86"
{
  chroot "$NEW" apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive chroot "$NEW" apt-get install -y -q --no-install-recommends \
      -t "$SUITE-backports" qemu-system-x86 &&
    chroot "$NEW" apt-get clean
} >>"$CACHE/host-root.log" 2>&1 || die "installing QEMU failed; see $CACHE/host-root.log"
version=$(chroot "$NEW" qemu-system-x86_64 --version | head -1)
say "  $version"
if ! chroot "$NEW" qemu-system-x86_64 -device help 2>/dev/null | grep -q '"vfio-user-pci"'; then
  die "$version has no vfio-user-pci device (need QEMU >= 10.1 from $SUITE-backports)"
fi
rm -rf "$ROOT"
mv "$NEW" "$ROOT"
