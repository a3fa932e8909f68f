# shellcheck shell=dash
# Sourced in the guest: report how far the nfp probe got, from dmesg, using
# the milestones of docs/README.md#the-drivers-probe-step-by-step. Writes out/milestone.txt.
#   probe_milestones DMESG_FILE
probe_milestones() {
  local dmesg=$1 reached=none next='' m name pattern why
  for m in \
    "PCI function probed|PCIe Card Probe" \
    "expansion BARs configured|RESERVED BARs" \
    "CPP bus and XPB (model, IMB)|Model: 0x" \
    "resource table and hwinfo|Assembly: [^(]" \
    "service processor (NSP)|BSP: " \
    "firmware loaded|Finished loading FW image|Didn't load firmware" \
    "control vNIC up|ctrl: .*CAP:" \
    "data netdevs registered|eth[0-9]+: .*CAP:"; do
    name=${m%%|*}
    pattern=${m#*|}
    if grep -qE "$pattern" "$dmesg"; then
      reached=$name
    else
      next=$name
      break
    fi
  done
  mkdir -p out
  echo "probe reached: $reached" | tee out/milestone.txt
  if [ -n "$next" ]; then
    why=$(grep -E "nfp .*(fail|error|timeout|Unknown|can't|Cannot|not the expected)" "$dmesg" | tail -1)
    echo "probe stopped before: $next${why:+ — $why}" | tee -a out/milestone.txt
  else
    echo "probe complete" | tee -a out/milestone.txt
  fi
}

# Print the nfp lines of a dmesg file once each (the driver repeats itself
# while it waits).
nfp_dmesg() {
  grep -E "nfp" "$1" | grep -v 'Command line' |
    awk '{ msg = substr($0, index($0, "]") + 2) } !seen[msg]++'
}
