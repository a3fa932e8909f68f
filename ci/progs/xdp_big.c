// An XDP program the kernel verifier accepts but whose NFP translation
// is longer than the card's code store allows (NFP_NET_CFG_BPF_MAX_LEN
// instructions): the driver must refuse to offload it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_big(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	__u32 x;

	if (data + 4 > end)
		return XDP_PASS;
	x = *(__u32 *)data;
#pragma clang loop unroll(full)
	for (int i = 0; i < 1500; i++)
		x = (x ^ i) + (x << 3);
	return x == 0x12345678 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
