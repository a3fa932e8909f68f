# shellcheck shell=dash
# nfp-emu killed with the guest running: traffic flows across the card when
# the host helper kills nfp-emu with SIGKILL; nfp-vm must say so and stop
# the VM (see host and check).
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/doomed.sh
. lib/guest/doomed.sh
