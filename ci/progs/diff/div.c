// Unsigned division by constants (the nfp JIT turns them into reciprocal
// multiplications, shifts for powers of two, and a compare for divisors above
// 2^31): 32-bit and 64-bit, immediate and register divisors the verifier
// knows. Dividends are u32 (the JIT's limit). No divisor whose reciprocal
// sequence ends in a shift by 0 (1, 28, 56, 641, ...: see diff.h).
#include "diff.h"

SEC("xdp")
int div(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u32 a, b, c, e, f, x, k;
	u64 p, q, h;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD32(d + 14);
	b = LD32(d + 18);
	c = LD32(d + 26);
	e = LD32(d + 37);
	f = LD16(d + 50);
	RESULTS(34);

	x = a; I32K(x, "/=", 5); res[0] = x;
	x = a; I32K(x, "/=", 2); res[1] = x;
	x = b; I32K(x, "/=", 3); res[2] = x;
	x = c; I32K(x, "/=", 7); res[3] = x;
	x = e; I32K(x, "/=", 10); res[4] = x;
	x = a; I32K(x, "/=", 6); res[5] = x;
	x = b; I32K(x, "/=", 12); res[6] = x;
	x = c; I32K(x, "/=", 60); res[7] = x;
	x = e; I32K(x, "/=", 100); res[8] = x;
	x = f; I32K(x, "/=", 255); res[9] = x;
	x = a; I32K(x, "/=", 256); res[10] = x;
	x = b; I32K(x, "/=", 643); res[11] = x;
	x = c; I32K(x, "/=", 1000); res[12] = x;
	x = e; I32K(x, "/=", 65535); res[13] = x;
	x = a; I32K(x, "/=", 65536); res[14] = x;
	x = b; I32K(x, "/=", 0x10001); res[15] = x;
	x = c; I32K(x, "/=", 0x40000001); res[16] = x;
	x = e; I32K(x, "/=", 0x7fffffff); res[17] = x;
	x = f; I32K(x, "/=", 0x12345); res[18] = x;
	/* 64-bit */
	p = a; I64K(p, "/=", 3); res[19] = p;
	p = b; I64K(p, "/=", 14); res[20] = p;
	p = c; I64K(p, "/=", 1024); res[21] = p;
	p = e; I64K(p, "/=", 99991); res[22] = p;
	p = f; I64K(p, "/=", 5); res[23] = p;
	/* register divisors with a value the verifier knows */
	MOV32K(k, 9); x = a; I32(x, "/=", k); res[24] = x;
	MOV32K(k, -1); x = b; I32(x, "/=", k); res[25] = x;
	MOV32K(k, -2); x = c; I32(x, "/=", k); res[26] = x;
	MOV32K(k, -0x80000000); x = e; I32(x, "/=", k); res[27] = x;
	MOV32K(k, -0x7fffffff); x = a; I32(x, "/=", k); res[28] = x;
	MOV32K(k, 0x55555555); x = b; I32(x, "/=", k); res[29] = x;
	MOV32K(k, -1); p = c; q = k; I64(p, "/=", q); res[30] = p;
	MOV32K(k, -0x7ffffff0); p = e; q = k; I64(p, "/=", q); res[31] = p;
	MOV64K(q, 1000000); p = a; I64(p, "/=", q); res[32] = p;
	/* quotient reused */
	/* (the verifier forgets the range of a quotient; "&= -1" restores the
	 * u32 bound the JIT's multiplication needs) */
	x = a; I32K(x, "/=", 10); I32K(x, "&=", -1); I32K(x, "*=", 10); NEG32(x); I32(x, "+=", a); res[33] = x;

	FLUSH(d, end, 34, h);
	return verdict(h);
}

LICENSE;
