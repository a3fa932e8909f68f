// Return values straight from the packet: XDP_ABORTED..XDP_TX, XDP_REDIRECT
// (the card aborts it), other out-of-range values, and 64-bit values whose
// upper half is not zero (only the low 32 bits are the verdict).
//
// xdp-diff: random 16
#include "diff.h"

SEC("xdp")
long verdicts(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u64 sel, r;

	if (d + 60 > end)
		return XDP_DROP;
	sel = (LD8(d + 14) ^ LD8(d + 33) ^ LD8(d + 59)) & 15;
	ST8(d + 20, sel);
	if (sel < 4)
		return sel;
	if (sel == 4)
		return XDP_REDIRECT;
	if (sel == 5)
		return 0xffffffff;
	if (sel == 6)
		return 0x80000002;
	if (sel == 7) {
		LDIMM64(r, 0x100000002);
		return r;
	}
	if (sel == 8) {
		LDIMM64(r, 0x500000003);
		return r;
	}
	if (sel == 9) {
		LDIMM64(r, 0xffffffff00000001);
		return r;
	}
	if (sel == 10)
		return 258;
	if (sel == 11) {
		MOV64K(r, -1);
		return r;
	}
	if (sel == 12) {
		MOV64K(r, -2);
		I64K(r, "&=", 0x7fffffff); /* 0x7ffffffe */
		return r;
	}
	return XDP_PASS + (sel & 1);
}

LICENSE;
