# nfp-emu demo, run inside the guest by `./run demo`: what the guest sees of
# the emulated Agilio CX and how far the unmodified nfp driver gets with it.
. lib/guest/probe-milestones.sh
mkdir -p out
step() { printf '\n== %s\n' "$*"; }

step "the emulated card on the guest's PCI bus"
lspci -nn -d 19ee:
dev=$(lspci -D -n -d 19ee:4000 | awk '{print $1; exit}')
[ -n "$dev" ] || { echo "no Netronome NFP-4000 (19ee:4000) found"; exit 1; }
lspci -vv -s "$dev" | grep -E 'Subsystem|Region|Capabilities|Serial|LnkSta:'

step "modprobe nfp (the unmodified driver of $(uname -r))"
modprobe nfp
dmesg >out/dmesg.txt
nfp_dmesg out/dmesg.txt | sed -n '1,30p'

step "netdevs"
ip -br link show | grep -v '^lo ' || true

step "result"
probe_milestones out/dmesg.txt
