# Helpers for the host-side `check` scripts of ci/scenarios (sourced).
# Environment from ci/boot-tests:
#   SCENARIO     name of the scenario
#   SHARE        the directory the guest saw as /mnt/host (guest output in $SHARE/out)
#   RUN_DIR      nfp-vm's run directory (console.log, script.log, nfp-emu0.log, qemu.log)
#   VM_STATUS    nfp-vm's exit status
#   VM_OUTPUT    file with nfp-vm's stdout+stderr
fails=0
pass() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*"; fails=$((fails + 1)); }
# expect DESCRIPTION COMMAND...: pass if the command succeeds.
expect() {
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi
}
# expect_grep DESCRIPTION PATTERN FILE: extended regexp present in file.
expect_grep() {
  if grep -qE -- "$2" "$3" 2>/dev/null; then pass "$1"; else fail "$1 (no /$2/ in ${3#"$SHARE"/})"; fi
}
# no_leftovers: no QEMU or nfp-emu process of this run is still alive.
no_leftovers() {
  local id left
  if [[ -z ${RUN_DIR:-} ]]; then fail "nfp-vm created no run directory"; return; fi
  id=$(basename "$RUN_DIR")
  left=$(pgrep -f -- "nfp-vm:$id|$RUN_DIR/nfp[0-9]+\.sock" | grep -v "^$$\$" || true)
  if [[ -z $left ]]; then pass "no QEMU or nfp-emu process left behind"; else
    fail "processes left behind: $(ps -o pid=,comm= -p "$(echo $left | tr ' ' ,)" | xargs)"; fi
}
finish() {
  if ((fails)); then printf '  %d check(s) failed\n' "$fails"; exit 1; fi
  exit 0
}
