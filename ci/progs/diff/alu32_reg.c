// ALU32 with register operands: add, sub, and, or, xor, mov, neg, lsh/rsh/arsh
// by known and run-time (masked) amounts, with the zero extension of the
// results into the upper halves (operands with non-zero upper halves).
#include "diff.h"

/* r1 = in (64-bit); r2 = s (64-bit); w1 OP= w2; out = r1. */
#define Z32(out, in, op, s)                                                  \
	asm volatile("r1 = %1\n r2 = %2\n w1 " op " w2\n %0 = r1"           \
		     : "=r"(out) : "r"(in), "r"(s) : "r1", "r2")

SEC("xdp")
int alu32_reg(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u32 a, b, c, e, f, g, x, s;
	u64 A, B, C, y, h;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD32(d + 14);
	b = LD32(d + 19);
	c = LD32(d + 27);
	e = LD32(d + 33);
	f = LD32(d + 42);
	g = LD32(d + 55);
	A = LD64(d + 20);
	B = LD64(d + 36);
	C = LD64(d + 48);
	RESULTS(34);

	x = a; I32(x, "+=", b); res[0] = x;
	x = c; I32(x, "+=", c); I32(x, "+=", e); res[1] = x;
	x = a; I32(x, "-=", b); res[2] = x;
	x = f; I32(x, "-=", g); I32(x, "-=", a); res[3] = x;
	x = b; I32(x, "&=", c); res[4] = x;
	x = e; I32(x, "|=", f); res[5] = x;
	x = g; I32(x, "^=", a); res[6] = x;
	x = b; I32(x, "^=", b); I32(x, "|=", c); res[7] = x;
	MOV32(x, e); I32(x, "+=", f); res[8] = x;
	MOV32(x, g); NEG32(x); I32(x, "-=", a); res[9] = x;
	MOV32K(s, 0); x = a; I32(x, "<<=", s); res[10] = x;
	MOV32K(s, 7); x = b; I32(x, "<<=", s); res[11] = x;
	MOV32K(s, 31); x = c; I32(x, ">>=", s); res[12] = x;
	MOV32K(s, 16); x = e; I32(x, "s>>=", s); res[13] = x;
	MOV32(s, g); I32K(s, "&=", 31); x = f; I32(x, "<<=", s); res[14] = x;
	MOV32(s, f); I32K(s, "&=", 31); x = a; I32(x, ">>=", s); res[15] = x;
	MOV32(s, e); I32K(s, "&=", 31); x = b; I32(x, "s>>=", s); res[16] = x;
	MOV32(s, c); I32K(s, ">>=", 27); x = g; I32(x, "<<=", s); res[17] = x;
	MOV32(s, b); I32K(s, ">>=", 27); x = e; I32(x, "s>>=", s); res[18] = x;
	x = a; I32(x, "+=", b); I32(x, "^=", c); I32(x, "-=", e); I32(x, "&=", f); I32(x, "|=", g); res[19] = x;
	x = g; I32(x, "-=", f); I32(x, "|=", e); I32(x, "+=", c); I32(x, "^=", b); I32(x, "&=", a); res[20] = x;
	/* zero extension, operands with garbage upper halves */
	Z32(y, A, "+=", B); res[21] = y;
	Z32(y, B, "-=", C); res[22] = y;
	Z32(y, C, "&=", A); res[23] = y;
	Z32(y, A, "|=", C); res[24] = y;
	Z32(y, B, "^=", A); res[25] = y;
	Z32(y, C, "=", B); res[26] = y;
	asm volatile("r1 = %1\n r2 = %2\n w2 &= 31\n w1 <<= w2\n %0 = r1"
		     : "=r"(y) : "r"(A), "r"(C) : "r1", "r2");
	res[27] = y;
	asm volatile("r1 = %1\n r2 = %2\n w2 &= 31\n w1 >>= w2\n %0 = r1"
		     : "=r"(y) : "r"(B), "r"(A) : "r1", "r2");
	res[28] = y;
	asm volatile("r1 = %1\n r2 = %2\n w2 &= 31\n w1 s>>= w2\n %0 = r1"
		     : "=r"(y) : "r"(C), "r"(B) : "r1", "r2");
	res[29] = y;
	/* a 32-bit shift amount taken from a register with a non-zero upper half */
	asm volatile("r1 = %1\n r2 = %2\n r2 &= 31\n r3 = 0x1234567800000000 ll\n r2 |= r3\n"
		     " w1 >>= w2\n %0 = r1"
		     : "=r"(y) : "r"(A), "r"(C) : "r1", "r2", "r3");
	res[30] = y;
	asm volatile("r1 = %1\n w1 = -w1\n w1 += w1\n %0 = r1" : "=r"(y) : "r"(C) : "r1");
	res[31] = y;
	asm volatile("r1 = %1\n w1 = w1\n %0 = r1" : "=r"(y) : "r"(A) : "r1");
	res[32] = y;
	asm volatile("r1 = %1\n r2 = %2\n w1 = w2\n %0 = r1" : "=r"(y) : "r"(A), "r"(B) : "r1", "r2");
	res[33] = y;

	FLUSH(d, end, 34, h);
	return verdict(h);
}

LICENSE;
