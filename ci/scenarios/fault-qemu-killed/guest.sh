# shellcheck shell=dash
# QEMU killed under traffic: traffic flows across the card when the host
# helper kills QEMU with SIGKILL; nfp-emu must notice its client is gone,
# leave by itself and remove its socket (see host and check).
# shellcheck source-path=SCRIPTDIR source=../../lib/guest/doomed.sh
. lib/guest/doomed.sh
