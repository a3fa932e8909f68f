#!/usr/bin/env bash
# Step progs: compile the XDP/tc programs of ci/progs with clang -target bpf.
# Run by images/build (step), which exports CACHE, IMAGES, TOP, MIRROR, SUITE
# and the helpers say, die and ensure_packages (ci/lib/common.sh).
set -euo pipefail
OUT="$CACHE/progs"
NEW="$OUT.new"
rm -rf "$NEW"
mkdir -p "$NEW"
arch_inc=/usr/include/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
n=0
for src in "$TOP"/ci/progs/*.c; do
  [[ -e $src ]] || continue
  obj="$NEW/$(basename "${src%.c}").o"
  clang -O2 -g -target bpf -I"$arch_inc" -c "$src" -o "$obj" || die "clang failed on $src"
  n=$((n + 1))
done
# The differential-fidelity corpus (ci/progs/diff): ALU32 and JMP32 need
# -mcpu=v3 (v4 would bring instructions the nfp JIT lacks). The sources go
# along: the guest harness (ci/lib/guest/xdp_diff.py) reads the frame
# directives in their header comments.
mkdir -p "$NEW/diff"
for src in "$TOP"/ci/progs/diff/*.c; do
  [[ -e $src ]] || continue
  obj="$NEW/diff/$(basename "${src%.c}").o"
  clang -O2 -g -target bpf -mcpu=v3 -Wall -I"$arch_inc" -c "$src" -o "$obj" ||
    die "clang failed on $src"
  cp "$src" "$NEW/diff/"
  n=$((n + 1))
done
say "  $n programs compiled into $OUT"
rm -rf "$OUT"
mv "$NEW" "$OUT"
