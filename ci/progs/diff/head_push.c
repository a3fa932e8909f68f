// bpf_xdp_adjust_head with one constant negative delta (-14, the nfp JIT's
// check-free fast path): an outer Ethernet header is pushed in front of the
// frame, every new byte written, and the frame sent back or passed.
#include "diff.h"
#include <bpf/bpf_endian.h>

SEC("xdp")
int head_push(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u8 sel;

	if (d + 60 > end)
		return XDP_DROP;
	sel = LD8(d + 20);
	if (bpf_xdp_adjust_head(ctx, -14))
		return XDP_ABORTED;
	d = PKT(ctx);
	end = PKT_END(ctx);
	if (d + 28 > end)
		return XDP_ABORTED;
	ST32(d, LD32(d + 20));
	ST16(d + 4, LD16(d + 24));
	ST32(d + 6, LD32(d + 14));
	ST16(d + 10, LD16(d + 18));
	ST16(d + 12, bpf_htons(0x88b5));
	ST8(d + 14, LD8(d + 14) ^ 2);
	return sel & 1 ? XDP_TX : XDP_PASS;
}

LICENSE;
