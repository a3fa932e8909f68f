# shellcheck shell=dash
# The card as AMDA0081-0001 in mode 4x10 (nfp-vm.args): hwinfo and the ETH
# table say so, the driver asks for nic_AMDA0081-0001_4x10.nffw and
# probes one netdev per port with the project's image for it.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/board-probe.sh
. lib/guest/board-probe.sh
