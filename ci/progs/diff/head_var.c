// bpf_xdp_adjust_head with deltas taken from the packet (the JIT's checked
// path), called twice: deltas keeping the total move within -84..120
// succeed where the frame allows it, the rest (below -216, beyond the frame)
// fail on both sides; the helper's return values (0 / -EINVAL, 64-bit) are
// written into the frame, and every byte the head grows by is written (moving
// back over bytes the first call skipped exposes them again, unchanged).
//
// Deltas at the edges of the card's range (-84, +120), just outside (-85)
// and zero, on copies of the first common frames:
// xdp-diff: patch 14 ac
// xdp-diff: patch 14 78
// xdp-diff: patch 14 ab
// xdp-diff: patch 14 00
// xdp-diff: random 8
#include "diff.h"

static __always_inline s32 pick(u8 b)
{
	s32 delta = (s8)b;

	if (delta < -84)
		return -300;
	if (delta > 120)
		return 5000;
	return delta;
}

SEC("xdp")
int head_var(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	s32 d1, d2;
	s64 r1, r2;
	u8 fill;

	if (d + 60 > end)
		return XDP_DROP;
	d1 = pick(LD8(d + 14));
	d2 = LD8(d + 15) & 31;
	fill = LD8(d + 16);
	r1 = bpf_xdp_adjust_head(ctx, d1);
	if (r1 == 0 && d1 < 0) {
		d = PKT(ctx);
		end = PKT_END(ctx);
#pragma clang loop unroll(disable)
		for (int i = 0; i < 84; i++) {
			if (i >= -d1 || d + i + 1 > end)
				break;
			ST8(d + i, fill + i);
		}
	}
	if (r1 == 0) {
		/* back by half of the first move (frame bytes or filled ones) */
		r2 = bpf_xdp_adjust_head(ctx, -(d1 >> 1));
		d2 = 0;
	} else {
		/* grow by 0..31 bytes, or try -300 */
		if (d2 == 31)
			d2 = 300;
		r2 = bpf_xdp_adjust_head(ctx, -d2);
		if (r2)
			d2 = 0;
	}
	d = PKT(ctx);
	end = PKT_END(ctx);
	if (d + 14 > end)
		return XDP_ABORTED;
#pragma clang loop unroll(disable)
	for (int i = 0; i < 31; i++) {
		if (i >= d2 || d + i + 1 > end)
			break;
		ST8(d + i, 0xa0 + i);
	}
	ST64(d, r1);
	ST32(d + 8, r2);
	ST16(d + 12, d1);
	if (r1 && r2)
		return XDP_DROP;
	return r1 ? XDP_PASS : XDP_TX;
}

LICENSE;
