// Every conditional jump in its 64-bit immediate form, with immediates 0, 1,
// -1 (sign-extended), small, 0x7fffffff, negative ones (which the nfp JIT
// turns into additions for jge/jsge/jlt/jslt), on values that hit them.
#include "diff.h"

#define ALLK(acc, a, k)                 \
	do {                            \
		J64K(acc, a, "==", k);  \
		J64K(acc, a, "!=", k);  \
		J64K(acc, a, ">", k);   \
		J64K(acc, a, ">=", k);  \
		J64K(acc, a, "<", k);   \
		J64K(acc, a, "<=", k);  \
		J64K(acc, a, "s>", k);  \
		J64K(acc, a, "s>=", k); \
		J64K(acc, a, "s<", k);  \
		J64K(acc, a, "s<=", k); \
		JSET64K(acc, a, k);     \
	} while (0)

SEC("xdp")
int jmp64_imm(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u64 a, b, s, t, acc, h;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD64(d + 14);
	b = LD64(d + 22);
	s = LD8(d + 30);	/* 0..255 */
	I64K(s, "-=", 128);	/* -128..127, sign-extended */
	t = LD8(d + 31);
	I64K(t, "&=", 3);	/* 0..3 */
	RESULTS(8);

	acc = 0; ALLK(acc, t, 0); ALLK(acc, t, 1); ALLK(acc, t, 2); res[0] = acc;
	acc = 0; ALLK(acc, s, -1); ALLK(acc, s, 0); ALLK(acc, s, 0x7f); res[1] = acc;
	acc = 0; ALLK(acc, s, -128); ALLK(acc, s, -5); ALLK(acc, s, 100); res[2] = acc;
	acc = 0; ALLK(acc, a, 0); ALLK(acc, a, -1); ALLK(acc, a, 0x7fffffff); res[3] = acc;
	acc = 0; ALLK(acc, b, -0x7fffffff); ALLK(acc, b, 0x12345678); ALLK(acc, b, -2); res[4] = acc;
	a = LD64(d + 38);
	b = LD32(d + 46);
	acc = 0; ALLK(acc, a, 1); ALLK(acc, b, 0x10000); ALLK(acc, b, -0x10000); res[5] = acc;
	I64K(b, ">>=", 24);
	acc = 0; ALLK(acc, b, 0x45); ALLK(acc, b, 0); ALLK(acc, b, 0xff); res[6] = acc;
	/* jeq/jne/jgt/jle/jsgt/jsle/jset also with INT_MIN (not rewritten) */
	a = LD64(d + 52);
	acc = 0;
	J64K(acc, a, "==", -0x80000000); J64K(acc, a, "!=", -0x80000000);
	J64K(acc, a, ">", -0x80000000); J64K(acc, a, "<=", -0x80000000);
	J64K(acc, a, "s>", -0x80000000); J64K(acc, a, "s<=", -0x80000000);
	JSET64K(acc, a, -0x80000000);
	J64K(acc, s, "==", -0x80000000); J64K(acc, s, "s>", -0x80000000);
	res[7] = acc;

	FLUSH(d, end, 8, h);
	return verdict(h);
}

LICENSE;
