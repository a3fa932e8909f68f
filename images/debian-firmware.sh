#!/usr/bin/env bash
# Step debian-firmware: Debian's firmware-netronome package (suite $SUITE,
# component non-free-firmware) as Debian ships it, unpacked into
# $CACHE/debian-firmware (its usr/lib/firmware/netronome tree: nic/, bpf/,
# nic-sriov/, flower/ and the top-level links to nic/). guest-image.sh puts
# it into the guest beside the project's own images; nothing of it is kept
# in the repository.
# Run by images/build (step), which exports CACHE, IMAGES, TOP, MIRROR, SUITE
# and the helpers say, die and ensure_packages (ci/lib/common.sh).
set -euo pipefail
OUT="$CACHE/debian-firmware"
NEW="$OUT.new"
work=$(mktemp -d "${TMPDIR:-/tmp}/nfp-emu-debfw.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # apt fetches as _apt
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE non-free-firmware" \
  >"$work/sources.list"
# A private apt state: the host's own sources and lists stay as they are.
apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1)
say "  apt-get update ($SUITE non-free-firmware)"
apt-get "${apt_opts[@]}" -qq update || die "apt-get update of $SUITE non-free-firmware failed"
(cd "$work" && apt-get "${apt_opts[@]}" -qq download firmware-netronome) ||
  die "apt-get download firmware-netronome failed"
deb=$(ls "$work"/firmware-netronome_*.deb)
rm -rf "$NEW"
mkdir -p "$NEW"
dpkg-deb -x "$deb" "$NEW"
[[ -d $NEW/usr/lib/firmware/netronome ]] || die "$deb has no usr/lib/firmware/netronome"
basename "$deb" >"$NEW/package"
rm -rf "$OUT"
mv "$NEW" "$OUT"
say "  $(cat "$OUT/package"): $(find "$OUT/usr/lib/firmware/netronome" -name '*.nffw' | wc -l) images"
