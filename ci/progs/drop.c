// The Getting Started Guide's drop.c (seeds/000, "Offloading a basic eBPF
// program"), unchanged: every packet is dropped.
#include <linux/bpf.h>

int xdp_prog1(struct xdp_md *ctx __attribute__((unused))) {
    return XDP_DROP;
}
