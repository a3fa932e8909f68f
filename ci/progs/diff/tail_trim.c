// bpf_xdp_adjust_tail with negative deltas only (the card cannot grow a
// frame): a delta from the packet (-1..-2047, failing when less than 14 bytes
// would remain), then a constant -4; the new last bytes are rewritten through
// a pointer computed from the new length.
//
// The largest trim (-2047) and a zero delta (turned into -1):
// xdp-diff: patch 14 ff07
// xdp-diff: patch 14 0000
#include "diff.h"

SEC("xdp")
int tail_trim(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	s32 delta;
	s64 r1, r2;
	u64 len, off;
	u8 *p;

	if (d + 60 > end)
		return XDP_DROP;
	delta = -(s32)(LD16(d + 14) & 0x7ff);
	if (delta == 0)
		delta = -1;
	if (LD8(d + 17) & 1)
		delta >>= 4;
	r1 = bpf_xdp_adjust_tail(ctx, delta);
	r2 = bpf_xdp_adjust_tail(ctx, -4);
	d = PKT(ctx);
	end = PKT_END(ctx);
	if (d + 14 > end)
		return XDP_ABORTED;
	len = end - d;
	ST32(d, r1);
	ST32(d + 4, r2);
	ST32(d + 8, len);
	off = (len - 4) & 0x7ff;
	p = d + off;
	if (p + 4 > end)
		return XDP_PASS;
	ST32(p, LD32(p) ^ 0x5a5a5a5a);
	if (r1)
		return XDP_DROP;
	return len & 1 ? XDP_TX : XDP_PASS;
}

LICENSE;
