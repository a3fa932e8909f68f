// XDP program that aborts on every packet (XDP_ABORTED: dropped, counted
// as bpf_app3 on the card).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_aborted(struct xdp_md *ctx)
{
	return XDP_ABORTED;
}

char _license[] SEC("license") = "GPL";
