# shellcheck shell=bash
# Helpers for the host-side `check` scripts of ci/scenarios (sourced).
# Environment from ci/boot-tests:
#   SCENARIO     name of the scenario
#   SHARE        the directory the guest saw as /mnt/host (guest output in $SHARE/out)
#   RUN_DIR      nfp-vm's run directory (console.log, script.log, nfp-emu0.log, qemu.log)
#   VM_STATUS    nfp-vm's exit status
#   VM_OUTPUT    file with nfp-vm's stdout+stderr
#   HOST_STATUS, HOST_OUTPUT   the host helper's exit status and output
#   TAP, UDP_PORT0, UDP_PORT1  this run's tap name and UDP ports
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
fails=0
# field KEY FILE: the word after KEY in FILE ("key value key value" lines),
# empty if absent.
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$2" 2>/dev/null; }
pass() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*"; fails=$((fails + 1)); }
info() { printf '  info  %s\n' "$*"; }
# expect DESCRIPTION COMMAND...: pass if the command succeeds.
expect() {
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi
}
# expect_grep DESCRIPTION PATTERN FILE: extended regexp present in file.
expect_grep() {
  if grep -qE -- "$2" "$3" 2>/dev/null; then pass "$1"; else fail "$1 (no /$2/ in ${3#"$SHARE"/})"; fi
}
# expect_clean DESCRIPTION PATTERN EXCLUDE FILE...: every file exists (and
# there is at least one) and none has a line matching the extended regexp
# PATTERN, apart from lines matching EXCLUDE (empty: none excepted).
expect_clean() {
  local what=$1 pat=$2 except=$3 f bad; shift 3
  if [[ $# -eq 0 ]]; then fail "$what (no file to check)"; return; fi
  for f in "$@"; do
    if [[ ! -f $f ]]; then fail "$what (${f#"$SHARE"/} missing)"; return; fi
  done
  bad=$(grep -hE -- "$pat" "$@" | { if [[ -n $except ]]; then grep -vE -- "$except"; else cat; fi; } | head -3)
  if [[ -n $bad ]]; then fail "$what: $bad"; else pass "$what"; fi
}
# expect_no_grep DESCRIPTION PATTERN FILE: the file exists and has no line
# matching the extended regexp.
expect_no_grep() { expect_clean "$1" "$2" "" "$3"; }
# no_leftovers: no QEMU or nfp-emu process of this run is still alive (QEMU
# is named nfp-vm:RUN_DIR, nfp-emu listens on RUN_DIR/nfpN.sock).
no_leftovers() {
  local left
  if [[ ! -d ${RUN_DIR:-} ]]; then fail "nfp-vm created no run directory"; return; fi
  if ! command -v pgrep >/dev/null; then fail "pgrep missing (package procps): cannot look for leftovers"; return; fi
  left=$(pgrep -f -- "nfp-vm:$RUN_DIR |$RUN_DIR/nfp[0-9]+\.sock" | grep -v "^$$\$" || true)
  if [[ -z $left ]]; then pass "no QEMU or nfp-emu process left behind"; else
    fail "processes left behind: $(ps -o pid=,comm= -p "$(paste -sd, <<<"$left")" | xargs)"; fi
}
# compare_disasm DIR: every BPF image nfp-emu wrote to DIR (--bpf-dump;
# nfp-vm keeps them in RUN_DIR/bpf0) disassembles, in the project's own
# disassembler (the .dis.txt beside each .bin), exactly as binutils' nfpdis
# does (images/build nfpdis).
compare_disasm() {
  local dir=$1 n=0 bad=0 bin
  local nfpdis=$CACHE/nfpdis/nfpdis
  if [[ ! -x $nfpdis ]]; then fail "nfpdis oracle missing: $nfpdis (images/build nfpdis)"; return; fi
  for bin in "$dir"/*.bin; do
    [[ -e $bin ]] || continue
    n=$((n + 1))
    if ! "$nfpdis" "$bin" 3072 | cmp -s - "${bin%.bin}.dis.txt"; then
      bad=$((bad + 1))
      echo "    differs from nfpdis: $bin"
    fi
  done
  if ((n > 0 && bad == 0)); then pass "disassembly of all $n loaded BPF images equals nfpdis"
  else fail "disassembly of the loaded BPF images vs nfpdis: $bad of $n differ"; fi
}
finish() {
  if ((fails)); then printf '  %d check(s) failed\n' "$fails"; exit 1; fi
  exit 0
}
