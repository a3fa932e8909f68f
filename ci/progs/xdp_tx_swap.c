// XDP program that sends every frame back out of the port it came in on,
// with source and destination MAC addresses swapped (XDP_TX).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_tx_swap(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	unsigned char tmp[ETH_ALEN];

	if (data + ETH_HLEN > end)
		return XDP_ABORTED;
	__builtin_memcpy(tmp, data, ETH_ALEN);
	__builtin_memcpy(data, data + ETH_ALEN, ETH_ALEN);
	__builtin_memcpy(data + ETH_ALEN, tmp, ETH_ALEN);
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
