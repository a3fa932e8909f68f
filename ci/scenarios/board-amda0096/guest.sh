# shellcheck shell=dash
# The card as AMDA0096-0001 in mode 2x10 (nfp-vm.args): hwinfo and the ETH
# table say so, the driver asks for nic_AMDA0096-0001_2x10.nffw and
# probes one netdev per port with the project's image for it.
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/board-probe.sh
. lib/guest/board-probe.sh
