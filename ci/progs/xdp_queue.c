// Queue selection (the NFP's QUEUE_SELECT capability): every frame is
// passed to the host on RX queue 1, whatever RSS would have chosen.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_queue(struct xdp_md *ctx)
{
	ctx->rx_queue_index = 1;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
