# shellcheck shell=dash
# The card as AMDA0097-0001 in mode 4x10_1x40 (nfp-vm.args): hwinfo and the ETH
# table say so, the driver asks for nic_AMDA0097-0001_4x10_1x40.nffw and
# probes one netdev per port with the project's image for it.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/board-probe.sh
. lib/guest/board-probe.sh
