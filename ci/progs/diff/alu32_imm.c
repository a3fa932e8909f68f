// ALU32 with immediate operands: add, sub (incl. negative and INT_MIN
// immediates), and, or, xor, mov, neg, lsh/rsh/arsh by 0, 1, 15, 16, 31; and
// the zero-extension of every 32-bit result into the upper half (the 32-bit op
// works on a register whose upper half holds packet bytes).
#include "diff.h"

/* r = in (64-bit); w(r) OP= k; out = r (the full 64-bit register). */
#define Z32K(out, in, op, k) \
	asm volatile("r1 = %1\n w1 " op " " #k "\n %0 = r1" : "=r"(out) : "r"(in) : "r1")

SEC("xdp")
int alu32_imm(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u32 a, b, c, e, f, g, x;
	u64 A, B, y, h;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD32(d + 14);
	b = LD32(d + 18);
	c = LD32(d + 26);
	e = LD32(d + 31);
	f = LD32(d + 45);
	g = LD32(d + 56);
	A = LD64(d + 22);
	B = LD64(d + 36);
	RESULTS(34);

	x = a; I32K(x, "+=", 1); I32K(x, "+=", 0x7fffffff); res[0] = x;
	x = b; I32K(x, "+=", -5); I32K(x, "+=", -0x80000000); res[1] = x;
	x = c; I32K(x, "-=", 3); I32K(x, "-=", -0x12345); res[2] = x;
	x = e; I32K(x, "-=", -0x80000000); I32K(x, "+=", 0); res[3] = x;
	x = f; I32K(x, "&=", 0x0f0f0f0f); res[4] = x;
	x = g; I32K(x, "&=", -256); I32K(x, "&=", -1); res[5] = x;
	x = a; I32K(x, "&=", 0); res[6] = x;
	x = b; I32K(x, "|=", 0x100); I32K(x, "|=", 0); res[7] = x;
	x = c; I32K(x, "|=", -0x80000000); res[8] = x;
	x = e; I32K(x, "|=", -1); res[9] = x;
	x = f; I32K(x, "^=", 0x5a5a5a5a); res[10] = x;
	x = g; I32K(x, "^=", -1); I32K(x, "^=", 0); res[11] = x;
	x = a; NEG32(x); res[12] = x;
	MOV32K(x, 0x12345678); res[13] = x;
	MOV32K(x, -7); res[14] = x;
	x = b; I32K(x, "<<=", 0); I32K(x, "<<=", 1); res[15] = x;
	x = c; I32K(x, "<<=", 15); res[16] = x;
	x = e; I32K(x, "<<=", 16); res[17] = x;
	x = f; I32K(x, "<<=", 31); res[18] = x;
	x = g; I32K(x, ">>=", 1); I32K(x, ">>=", 0); res[19] = x;
	x = a; I32K(x, ">>=", 16); res[20] = x;
	x = b; I32K(x, ">>=", 31); res[21] = x;
	x = c; I32K(x, "s>>=", 1); res[22] = x;
	x = e; I32K(x, "s>>=", 15); res[23] = x;
	x = f; I32K(x, "s>>=", 31); I32K(x, "s>>=", 0); res[24] = x;
	/* zero extension of 32-bit results */
	Z32K(y, A, "+=", 7); res[25] = y;
	Z32K(y, B, "-=", 0x10000); res[26] = y;
	Z32K(y, A, "&=", -2); res[27] = y;
	Z32K(y, B, "|=", 0x80); res[28] = y;
	Z32K(y, A, "^=", 0x55555555); res[29] = y;
	Z32K(y, B, "<<=", 3); res[30] = y;
	Z32K(y, A, ">>=", 9); res[31] = y;
	Z32K(y, B, "s>>=", 4); res[32] = y;
	asm volatile("r1 = %1\n w1 = -w1\n %0 = r1" : "=r"(y) : "r"(A) : "r1");
	res[33] = y;

	FLUSH(d, end, 34, h);
	return verdict(h);
}

LICENSE;
