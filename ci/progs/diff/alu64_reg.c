// ALU64 with register operands: add, sub, and, or, xor, mov, neg, and
// lsh/rsh/arsh by registers whose value the verifier knows (the JIT folds
// them into constant shifts) and by masked run-time amounts.
#include "diff.h"

SEC("xdp")
int alu64_reg(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u64 a, b, c, e, f, g, x, s, h;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD64(d + 14);
	b = LD64(d + 22);
	c = LD64(d + 30);
	e = LD64(d + 38);
	f = LD64(d + 46);
	g = LD64(d + 52);
	RESULTS(32);

	x = a; I64(x, "+=", b); res[0] = x;
	x = c; I64(x, "+=", c); I64(x, "+=", e); res[1] = x;
	x = a; I64(x, "-=", b); res[2] = x;
	x = f; I64(x, "-=", g); I64(x, "-=", a); res[3] = x;
	x = b; I64(x, "&=", c); res[4] = x;
	x = e; I64(x, "&=", f); I64(x, "&=", g); res[5] = x;
	x = g; I64(x, "|=", a); res[6] = x;
	x = b; I64(x, "|=", c); I64(x, "^=", e); res[7] = x;
	x = f; I64(x, "^=", f); I64(x, "|=", b); res[8] = x;
	x = e; I64(x, "^=", g); res[9] = x;
	MOV64(x, a); I64(x, "+=", c); res[10] = x;
	MOV64(x, g); NEG64(x); I64(x, "-=", f); res[11] = x;
	/* shift amounts the verifier knows: folded into constant shifts */
	MOV64K(s, 0); x = a; I64(x, "<<=", s); res[12] = x;
	MOV64K(s, 13); x = b; I64(x, "<<=", s); res[13] = x;
	MOV64K(s, 40); x = c; I64(x, ">>=", s); res[14] = x;
	MOV64K(s, 32); x = e; I64(x, "s>>=", s); res[15] = x;
	MOV64K(s, 5); x = f; I64(x, "s>>=", s); res[16] = x;
	/* run-time amounts (never 0 for lsh, see diff.h) */
	MOV64(s, g); I64K(s, "&=", 63); I64K(s, "|=", 1); x = a; I64(x, "<<=", s); res[17] = x;
	MOV64(s, f); I64K(s, "&=", 63); x = b; I64(x, ">>=", s); res[18] = x;
	MOV64(s, e); I64K(s, "&=", 63); x = c; I64(x, "s>>=", s); res[19] = x;
	MOV64(s, a); I64K(s, ">>=", 58); x = g; I64(x, ">>=", s); res[20] = x;
	MOV64(s, b); I64K(s, ">>=", 58); x = f; I64(x, "s>>=", s); res[21] = x;
	/* chains mixing everything */
	x = a; I64(x, "+=", b); I64(x, "^=", c); I64(x, "-=", e); I64(x, "&=", f); I64(x, "|=", g); res[22] = x;
	x = g; I64(x, "-=", f); I64(x, "|=", e); I64(x, "+=", c); I64(x, "^=", b); I64(x, "&=", a); res[23] = x;
	x = a; I64(x, "+=", a); I64(x, "+=", x); I64(x, "+=", x); res[24] = x;
	x = b; I64(x, "-=", b); res[25] = x;
	x = c; NEG64(x); I64(x, "+=", c); res[26] = x;
	x = e; I64(x, "&=", e); I64(x, "|=", e); I64(x, "^=", f); res[27] = x;
	x = f; I64K(x, "+=", -1); I64(x, "&=", f); res[28] = x;
	x = g; I64(x, "-=", a); I64(x, "-=", b); I64(x, "-=", c); res[29] = x;
	x = a; I64(x, "^=", b); I64(x, "^=", c); I64(x, "^=", e); I64(x, "^=", f); I64(x, "^=", g); res[30] = x;
	x = b; I64(x, "+=", g); I64(x, "+=", f); res[31] = x;

	FLUSH(d, end, 32, h);
	return verdict(h);
}

LICENSE;
