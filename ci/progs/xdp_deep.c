// XDP program that reads the byte at offset 2000 of a frame long enough to
// have one (and passes every frame): its deepest packet access, the
// verifier's max_pkt_offset, is 2000, beyond the 1888 bytes the card's
// firmware lets a program reach (NFP_NET_CFG_BPF_INL_MTU = 30;
// docs/bpf-offload.md#inline-mtu). The driver then refuses an MTU above
// 1888 while it is offloaded, and refuses to offload it at such an MTU.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define DEEP 2000

SEC("xdp")
int xdp_deep(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;

	if (data + DEEP + 1 > end)
		return XDP_PASS;
	return data[DEEP] == 0xa5 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
