# shellcheck shell=bash
# What the project's host-side scripts share (sourced by run, images/build,
# ci/boot-tests and ci/lib/check.sh): where the image cache is, how Debian
# packages get installed, how a guest's shared directory is staged, and how
# they say what they do.
#
# Sets NFP_EMU_TOP (the repository) and CACHE (the image cache:
# $NFP_EMU_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/nfp-emu; nfp-vm
# applies the same rule, qemu-glue/src/images.rs).

NFP_EMU_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${NFP_EMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nfp-emu}

# say MESSAGE...: a progress line tagged [$SAY_TAG] (bold on a terminal).
say() {
  if [[ -t 1 ]]; then
    printf '\033[1m[%s]\033[0m %s\n' "${SAY_TAG:-nfp-emu}" "$*"
  else
    printf '[%s] %s\n' "${SAY_TAG:-nfp-emu}" "$*"
  fi
}

# die MESSAGE...: an error line on stderr, exit 1.
die() {
  printf '[%s] error: %s\n' "${SAY_TAG:-nfp-emu}" "$*" >&2
  exit 1
}

# ensure_packages PACKAGE...: install (apt-get, no recommends) the Debian
# packages of the list that are not installed yet; needs root for that.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || die "missing host packages: ${missing[*]} (run as root to install them)"
  say "host packages: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# stage_share SRC DEST: make DEST the directory a guest sees as /mnt/host:
# SRC's files, the guest helpers in lib/guest/ and the compiled XDP/tc
# programs in progs/ (when images/build has made them).
stage_share() {
  mkdir -p "$2/lib"
  cp -a "$1/." "$2/"
  cp -a "$NFP_EMU_TOP/ci/lib/guest" "$2/lib/guest"
  if [[ -d $CACHE/progs ]]; then cp -a "$CACHE/progs" "$2/progs"; fi
}

# For the host helpers of ci/scenarios (ci/boot-tests sets SHARE, RUN_DIR
# and VM_DONE, a file that exists once nfp-vm has ended).

# wait_event CMD...: run CMD every 0.2 s until it succeeds; fails (status
# 1) once the VM has ended without it.
wait_event() {
  until "$@"; do
    if [[ -e $VM_DONE ]]; then
      echo "host: the VM ended before: $*"
      return 1
    fi
    sleep 0.2
  done
}

# kill_on_event FILE WHAT PATTERN: once the guest has created FILE (in its
# out/ directory), SIGKILL the one process of this run whose command line
# matches PATTERN (pgrep -f), described as WHAT. If that fails, creates
# out/host-gave-up for the guest.
kill_on_event() {
  local pid
  wait_event test -e "$SHARE/out/$1" || return 1
  pid=$(pgrep -f -- "$3")
  if [[ -z $pid || $pid == *$'\n'* ]]; then
    echo "host: not exactly one $2 process matches $3: ${pid//$'\n'/ }"
    touch "$SHARE/out/host-gave-up"
    return 1
  fi
  kill -KILL "$pid"
  echo "host: killed $2 (pid $pid) with SIGKILL"
}
