# shellcheck shell=dash
# Sleeps past nfp-vm's --timeout (see nfp-vm.args).
echo "sleeping past the timeout"
sleep 600
