// The drop.c of Netronome's eBPF Offload Getting Started Guide ("Offloading a basic eBPF
// program"): every packet is dropped. One change: the guide loads the
// function from section .text (`ip ... obj drop.o sec .text`), which
// iproute2 built with libbpf >= 1.0 (Debian trixie) no longer accepts as a
// program, so the function is placed in section "xdp" and loaded with
// `sec xdp`.
#include <linux/bpf.h>

__attribute__((section("xdp"), used))
int xdp_prog1(struct xdp_md *ctx __attribute__((unused))) {
    return XDP_DROP;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
