// Every conditional jump in its JMP32 immediate form (incl. negative
// immediates and INT_MIN where the JIT does not rewrite it), on registers
// whose upper halves hold other data.
#include "diff.h"

/* acc = acc << 1 | !(w(a) COND k); a: full 64-bit register */
#define J32RK(acc, a, cond, k)                                                    \
	asm volatile("%0 <<= 1\n r1 = %1\n if w1 " cond " " #k " goto +1\n %0 |= 1" \
		     : "+r"(acc) : "r"(a) : "r1")

#define ALLK(acc, a, k)                  \
	do {                             \
		J32RK(acc, a, "==", k);  \
		J32RK(acc, a, "!=", k);  \
		J32RK(acc, a, ">", k);   \
		J32RK(acc, a, ">=", k);  \
		J32RK(acc, a, "<", k);   \
		J32RK(acc, a, "<=", k);  \
		J32RK(acc, a, "s>", k);  \
		J32RK(acc, a, "s>=", k); \
		J32RK(acc, a, "s<", k);  \
		J32RK(acc, a, "s<=", k); \
		JSET32K(acc, a, k);      \
	} while (0)

SEC("xdp")
int jmp32_imm(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u64 a, b, s, t, acc, h;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD64(d + 14);
	b = LD64(d + 22);
	s = LD64(d + 29);
	I64K(s, "&=", -256);
	I64K(s, "|=", 0x7e);	/* upper bytes kept, low byte 0x7e..0xff */
	t = LD64(d + 37);
	I64K(t, "&=", -253);	/* low byte 0..2 */
	RESULTS(8);

	acc = 0; ALLK(acc, t, 0); ALLK(acc, t, 1); ALLK(acc, t, 2); res[0] = acc;
	acc = 0; ALLK(acc, s, 0x7f); ALLK(acc, s, 0xfe); ALLK(acc, s, -1); res[1] = acc;
	acc = 0; ALLK(acc, s, -5); ALLK(acc, s, -0x7fffff82); ALLK(acc, a, 0x7fffffff); res[2] = acc;
	acc = 0; ALLK(acc, a, 0); ALLK(acc, a, -1); ALLK(acc, b, 0x12345678); res[3] = acc;
	acc = 0; ALLK(acc, b, -0x7fffffff); ALLK(acc, b, 1); ALLK(acc, b, -2); res[4] = acc;
	a = LD64(d + 44);
	b = LD64(d + 52);
	acc = 0; ALLK(acc, a, 0x10000); ALLK(acc, b, -0x10000); ALLK(acc, a, 3); res[5] = acc;
	I64K(b, ">>=", 36);
	acc = 0; ALLK(acc, b, 0x45); ALLK(acc, b, 0); ALLK(acc, b, 0xfffffff); res[6] = acc;
	/* INT_MIN where the JIT keeps the comparison as is; jge/jlt are fine too */
	acc = 0;
	J32RK(acc, a, "==", -0x80000000); J32RK(acc, a, "!=", -0x80000000);
	J32RK(acc, a, ">", -0x80000000); J32RK(acc, a, ">=", -0x80000000);
	J32RK(acc, a, "<", -0x80000000); J32RK(acc, a, "<=", -0x80000000);
	J32RK(acc, a, "s>", -0x80000000); J32RK(acc, a, "s<=", -0x80000000);
	JSET32K(acc, a, -0x80000000);
	J32RK(acc, t, "==", -0x80000000); J32RK(acc, s, "<", -0x80000000);
	res[7] = acc;

	FLUSH(d, end, 8, h);
	return verdict(h);
}

LICENSE;
