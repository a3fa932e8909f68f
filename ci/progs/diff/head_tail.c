// adjust_head and adjust_tail together: strip 0..31 bytes from the front,
// trim 1..64 bytes from the end, grow the head again by up to 38 bytes and
// write them; the length bookkeeping of both helpers must agree.
#include "diff.h"

SEC("xdp")
int head_tail(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	s32 h1, t1, h2;
	s64 r1, r2, r3;
	u32 len;

	if (d + 60 > end)
		return XDP_DROP;
	h1 = LD8(d + 14) & 31;
	t1 = (LD8(d + 15) & 63) + 1;
	h2 = (LD8(d + 16) & 31) + (LD8(d + 17) & 7);
	r1 = bpf_xdp_adjust_head(ctx, h1);
	r2 = bpf_xdp_adjust_tail(ctx, -t1);
	if (r1)
		h1 = 0;
	r3 = bpf_xdp_adjust_head(ctx, -(h1 + h2));
	d = PKT(ctx);
	end = PKT_END(ctx);
	if (d + 14 > end)
		return XDP_ABORTED;
	if (r3 == 0) {
#pragma clang loop unroll(disable)
		for (int i = 0; i < 40; i++) {
			if (i >= h2 || d + i + 1 > end)
				break;
			ST8(d + i, 0x30 + i);
		}
	}
	len = end - d;
	ST16(d + 12, len);
	ST8(d + 11, r1 | r2 << 1 | r3 << 2);
	if (r2)
		return XDP_DROP;
	return len & 2 ? XDP_TX : XDP_PASS;
}

LICENSE;
