# Step progs: compile the XDP/tc programs of ci/progs with clang -target bpf.
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
progress "  $n programs compiled into $OUT"
rm -rf "$OUT"
mv "$NEW" "$OUT"
