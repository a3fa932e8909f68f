# shellcheck shell=bash
# Host-side checks of the board-* scenarios (guest side:
# lib/guest/board-probe.sh). The scenario's check sets
#   BOARD   the assembly (hwinfo assembly.partno)
#   PN      the product name (hwinfo pn, devlink board.part_number)
#   FW      the file name the driver must ask for (nfp_main.c:413-440)
#   PORTS   one line per port in ETH table order: "phys_port_name speed",
#           speed as ethtool prints it, "-" for a port without a cable
# then sources this file, which ends with finish.
# shellcheck source-path=SCRIPTDIR source=check.sh
. "$(dirname "${BASH_SOURCE[0]}")/check.sh"
out=$SHARE/out
d=$out/dmesg.txt
expect "guest script succeeded (status $VM_STATUS)" test "$VM_STATUS" -eq 0
expect_grep "Assembly line names $BOARD" "Assembly: Netronome${BOARD}[0-9]+-11 CPLD: 0x44" "$d"
expect_grep "the driver asks for $FW and finds it" "netronome/$FW: found" "$d"
expect_grep "firmware loaded" "Finished loading FW image" "$d"
expect_grep "probe complete" "^probe complete" "$out/milestone.txt"
nports=$(grep -c . <<<"$PORTS")
expect "$nports netdevs with BPF in CAP" test "$(grep -cE 'eth[0-9]+: CAP: .*BPF' "$d")" -eq "$nports"
expect_clean "no errors or port/vNIC mismatch" \
  "nfp .*([Mm]utex|[Tt]imeout|Result \(error\)|NSP failed|failed|busted|don't match)" \
  'firmware: failed to load netronome/(serial|pci)-' "$d"
i=0
while read -r name speed; do
  line=$(awk -v p="$i" '$1 == p' "$out/ports.txt")
  expect "port $i is $name (${line:-none})" test "$(awk '{ print $2 }' <<<"$line")" = "$name"
  if [[ $speed != - ]]; then
    expect "port $i: carrier, $speed" grep -qE "carrier=1 speed=$speed\$" <<<"$line"
  fi
  i=$((i + 1))
done <<<"$PORTS"
expect "devlink port show: $nports physical ports" \
  test "$(grep -c 'flavour physical' "$out/devlink-port.txt")" -eq "$nports"
expect_grep "devlink info: board.id $BOARD" "board.id $BOARD" "$out/devlink-info.txt"
expect_grep "devlink info: part number $PN" "board.part_number $PN" "$out/devlink-info.txt"
expect_no_grep "nfp-emu logged no warning" 'WARN|ERROR' "$RUN_DIR/nfp-emu0.log"
no_leftovers
finish
