# shellcheck shell=dash
# nfp-vm passes the script's exit status through.
echo "script running as $(id -un) in $(pwd)"
echo marker >out/ran
exit 7
