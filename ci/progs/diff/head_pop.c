// bpf_xdp_adjust_head with one constant positive delta (+18, the nfp JIT's
// fast path): the first 18 bytes (an Ethernet header and a VLAN tag) are
// removed and a new Ethernet header is written over the start of what is
// left; its length decides the verdict.
#include "diff.h"

SEC("xdp")
int head_pop(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u64 mac;
	u32 len;

	if (d + 60 > end)
		return XDP_DROP;
	mac = LD64(d);
	if (bpf_xdp_adjust_head(ctx, 18))
		return XDP_ABORTED;
	d = PKT(ctx);
	end = PKT_END(ctx);
	if (d + 14 > end)
		return XDP_ABORTED;
	len = end - d;
	ST64(d, mac);
	ST32(d + 8, len);
	ST16(d + 12, 0x0008);
	if (len > 1000)
		return XDP_TX;
	if (len < 100)
		return XDP_DROP;
	return XDP_PASS;
}

LICENSE;
