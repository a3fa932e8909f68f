#!/usr/bin/env bash
# Step nfpdis: the binutils NFP disassembler as a test oracle for the
# project's own (compare_disasm in ci/lib/check.sh). Built from Debian's
# binutils-source (binutils 2.40: no Debian binutils package targets NFP),
# only the libraries the disassembler needs.
# Run by images/build (step), which exports CACHE, IMAGES, TOP, MIRROR, SUITE
# and the helpers say, die and ensure_packages (ci/lib/common.sh).
set -euo pipefail
ensure_packages binutils-source zlib1g-dev libzstd-dev bison flex texinfo make gcc
W="$CACHE/nfpdis.build"
rm -rf "$W"
mkdir -p "$W/build"
tar -C "$W" -xf /usr/src/binutils/binutils-2.*.tar.xz
S=$(echo "$W"/binutils-2.*)
cd "$W/build"
"$S/configure" --target=nfp-elf --disable-werror --disable-gdb --disable-gdbserver \
  --disable-sim --disable-gprofng --disable-nls >configure.log 2>&1
make -j"$(nproc)" all-bfd all-opcodes all-libiberty all-libsframe >make.log 2>&1
mkdir -p "$CACHE/nfpdis"
gcc -O1 -o "$CACHE/nfpdis/nfpdis" "$IMAGES/nfpdis/nfpdis.c" -Ibfd -I"$S/include" -I"$S/bfd" \
  opcodes/libopcodes.a bfd/libbfd.a libiberty/libiberty.a libsframe/.libs/libsframe.a -lz -lzstd
cd /
rm -rf "$W"
say "  $CACHE/nfpdis/nfpdis"
