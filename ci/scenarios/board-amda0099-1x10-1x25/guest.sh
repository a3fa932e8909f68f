# shellcheck shell=dash
# The card as AMDA0099-0001 in mode 1x10_1x25 (nfp-vm.args): hwinfo and the ETH
# table say so, the driver asks for nic_AMDA0099-0001_1x10_1x25.nffw and
# probes one netdev per port with the project's image for it.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/board-probe.sh
. lib/guest/board-probe.sh
