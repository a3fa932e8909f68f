// ALU64 with immediate operands: add, sub (incl. negative immediates, which
// the nfp JIT rewrites to sub/add), and, or, xor (incl. the 0 / -1 special
// cases), neg, mov (sign-extended immediates), lsh/rsh/arsh by 0, 1, 31, 32,
// 33, 63.
#include "diff.h"

SEC("xdp")
int alu64_imm(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u64 a, b, c, e, f, g, x, h;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD64(d + 14);
	b = LD64(d + 22);
	c = LD64(d + 30);
	e = LD64(d + 38);
	f = LD64(d + 46);
	g = LD64(d + 52);
	RESULTS(36);

	x = a; I64K(x, "+=", 1); I64K(x, "+=", 0x7fffffff); res[0] = x;
	x = b; I64K(x, "+=", -5); I64K(x, "+=", -0x7fffffff); res[1] = x;
	x = c; I64K(x, "-=", 3); I64K(x, "-=", -0x12345); res[2] = x;
	x = e; I64K(x, "-=", 0x7fffffff); I64K(x, "+=", 0); res[3] = x;
	x = f; I64K(x, "&=", 0x0f0f0f0f); res[4] = x;
	x = f; I64K(x, "&=", -256); res[5] = x;
	x = g; I64K(x, "&=", 0); res[6] = x;
	x = g; I64K(x, "&=", -1); I64K(x, "&=", 0x7ffffff0); res[7] = x;
	x = a; I64K(x, "|=", 0x100); res[8] = x;
	x = b; I64K(x, "|=", -0x80000000); res[9] = x;
	x = c; I64K(x, "|=", 0); I64K(x, "|=", -1); res[10] = x;
	x = e; I64K(x, "^=", 0x5a5a5a5a); res[11] = x;
	x = f; I64K(x, "^=", -1); res[12] = x;
	x = g; I64K(x, "^=", -0x80000000); I64K(x, "^=", 0); res[13] = x;
	x = a; NEG64(x); res[14] = x;
	x = b; NEG64(x); I64K(x, "+=", 7); NEG64(x); res[15] = x;
	MOV64K(x, 0x1234); I64K(x, "^=", 0x11); res[16] = x;
	MOV64K(x, -7); res[17] = x;
	MOV64K(x, -0x80000000); res[18] = x;
	x = a; I64K(x, "<<=", 0); I64K(x, "<<=", 1); res[19] = x;
	x = b; I64K(x, "<<=", 31); res[20] = x;
	x = c; I64K(x, "<<=", 32); res[21] = x;
	x = e; I64K(x, "<<=", 33); res[22] = x;
	x = f; I64K(x, "<<=", 63); res[23] = x;
	x = g; I64K(x, ">>=", 1); res[24] = x;
	x = a; I64K(x, ">>=", 31); res[25] = x;
	x = b; I64K(x, ">>=", 32); res[26] = x;
	x = c; I64K(x, ">>=", 33); res[27] = x;
	x = e; I64K(x, ">>=", 63); I64K(x, ">>=", 0); res[28] = x;
	x = f; I64K(x, "s>>=", 1); res[29] = x;
	x = g; I64K(x, "s>>=", 31); res[30] = x;
	x = a; I64K(x, "s>>=", 32); res[31] = x;
	x = b; I64K(x, "s>>=", 33); res[32] = x;
	x = c; I64K(x, "s>>=", 63); res[33] = x;
	x = e; I64K(x, "s>>=", 0); I64K(x, "s>>=", 7); res[34] = x;
	x = f; I64K(x, "+=", 0x7fffffff); I64K(x, "-=", -0x7fffffff); I64K(x, "&=", -16);
	I64K(x, "|=", 5); I64K(x, "^=", 0x33); res[35] = x;

	FLUSH(d, end, 36, h);
	return verdict(h);
}

LICENSE;
