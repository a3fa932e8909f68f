// Every conditional jump in its JMP32 register form, on registers whose upper
// halves hold other data (a 32-bit compare must ignore them): equal low
// halves, sign differences, small and arbitrary values.
#include "diff.h"

/* acc = acc << 1 | !(w(a) COND w(b)); a, b: full 64-bit registers */
#define J32R(acc, a, cond, b)                                                      \
	asm volatile("%0 <<= 1\n r1 = %1\n r2 = %2\n if w1 " cond " w2 goto +1\n %0 |= 1" \
		     : "+r"(acc) : "r"(a), "r"(b) : "r1", "r2")

#define ALL32(acc, a, b)                 \
	do {                             \
		J32R(acc, a, "==", b);   \
		J32R(acc, a, "!=", b);   \
		J32R(acc, a, ">", b);    \
		J32R(acc, a, ">=", b);   \
		J32R(acc, a, "<", b);    \
		J32R(acc, a, "<=", b);   \
		J32R(acc, a, "s>", b);   \
		J32R(acc, a, "s>=", b);  \
		J32R(acc, a, "s<", b);   \
		J32R(acc, a, "s<=", b);  \
		JSET32(acc, a, b);       \
	} while (0)

SEC("xdp")
int jmp32_reg(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u64 a, b, lo, sgn, sa, sb, acc, h;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD64(d + 14);
	b = LD64(d + 22);
	lo = LD64(d + 14);
	I64K(lo, "^=", 0x7fffffff);
	I64K(lo, "^=", 0x7fffffff);
	I64K(lo, "+=", 0x40000000);
	I64K(lo, "+=", 0x40000000);
	I64K(lo, "+=", 0x40000000);
	I64K(lo, "+=", 0x40000000);	/* low half equal to a, upper half not */
	sgn = LD64(d + 14);
	I64K(sgn, "^=", -0x80000000);
	sa = LD64(d + 30);
	sb = LD64(d + 38);
	I64K(sa, "&=", -253);		/* keep the upper half, low byte 0..2 */
	I64K(sb, "&=", -253);
	RESULTS(6);

	acc = 0; ALL32(acc, a, b); ALL32(acc, b, a); res[0] = acc;
	acc = 0; ALL32(acc, a, lo); ALL32(acc, lo, sgn); res[1] = acc;
	acc = 0; ALL32(acc, sgn, a); ALL32(acc, sa, sb); res[2] = acc;
	acc = 0; ALL32(acc, sb, sa); ALL32(acc, a, sa); res[3] = acc;
	a = LD64(d + 44);
	b = LD64(d + 52);
	acc = 0; ALL32(acc, a, b); ALL32(acc, b, lo); res[4] = acc;
	acc = 0; ALL32(acc, sgn, b); ALL32(acc, sa, a); res[5] = acc;

	FLUSH(d, end, 6, h);
	return verdict(h);
}

LICENSE;
