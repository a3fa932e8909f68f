// Multiplication: 32-bit by immediates (incl. negative) and registers, 64-bit
// by immediates and registers (u32 x u32 -> full 64-bit product), with
// operands small enough for the JIT's 16x16 sequence and larger ones (32x32).
#include "diff.h"

SEC("xdp")
int mul(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u32 a, b, c, e, x, y;
	u64 p, q, h;
	u16 s, t;
	u8 k;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD32(d + 14);
	b = LD32(d + 19);
	c = LD32(d + 26);
	e = LD32(d + 40);
	s = LD16(d + 30);
	t = LD16(d + 47);
	k = LD8(d + 53);
	RESULTS(26);

	/* 32-bit */
	x = a; I32K(x, "*=", 3); res[0] = x;
	x = b; I32K(x, "*=", 0x10001); res[1] = x;
	x = c; I32K(x, "*=", -7); res[2] = x;
	x = e; I32K(x, "*=", 0x7fffffff); res[3] = x;
	x = a; I32(x, "*=", b); res[4] = x;
	x = c; I32(x, "*=", c); res[5] = x;
	x = s; y = t; I32(x, "*=", y); res[6] = x;
	x = s; I32K(x, "*=", 1000); res[7] = x;
	x = k; y = s; I32(x, "*=", y); res[8] = x;
	x = t; I32K(x, "*=", 0x12345); res[9] = x;
	x = e; I32K(x, "*=", 0); res[10] = x;
	x = b; I32K(x, "*=", 1); res[11] = x;
	x = a; I32K(x, "*=", -1); res[12] = x;
	/* 64-bit: operands within u32 */
	p = a; q = b; I64(p, "*=", q); res[13] = p;
	p = c; q = e; I64(p, "*=", q); res[14] = p;
	p = a; I64K(p, "*=", 0x7fffffff); res[15] = p;
	p = e; I64K(p, "*=", 65537); res[16] = p;
	p = s; q = t; I64(p, "*=", q); res[17] = p;
	p = s; I64K(p, "*=", 0xffff); res[18] = p;
	p = k; I64K(p, "*=", 3); res[19] = p;
	p = t; q = a; I64(p, "*=", q); res[20] = p;
	p = k; q = k; I64(p, "*=", q); res[21] = p;
	MOV64K(p, -1); I64K(p, ">>=", 32); q = c; I64(p, "*=", q); res[22] = p;
	p = e; I64K(p, "*=", 0); res[23] = p;
	/* products feeding further arithmetic */
	x = a; I32K(x, "*=", 5); I32K(x, "+=", 1); I32(x, "*=", b); res[24] = x;
	p = s; I64K(p, "*=", 40503); I64K(p, ">>=", 16); q = t; I64(p, "*=", q); res[25] = p;

	FLUSH(d, end, 26, h);
	return verdict(h);
}

LICENSE;
