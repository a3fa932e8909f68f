// 32-bit shifts: by constants, by registers the verifier knows and by masked
// run-time amounts (including 0 and 31), lsh, rsh and arsh.
#include "diff.h"

SEC("xdp")
int shift32(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u32 a, b, c, e, f, g, x, s;
	u64 h;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD32(d + 14);
	b = LD32(d + 18);
	c = LD32(d + 22);
	e = LD32(d + 30);
	f = LD32(d + 41);
	g = LD32(d + 53);
	RESULTS(28);

	x = a; I32K(x, "<<=", 1); res[0] = x;
	x = b; I32K(x, "<<=", 8); res[1] = x;
	x = c; I32K(x, "<<=", 24); res[2] = x;
	x = e; I32K(x, ">>=", 4); res[3] = x;
	x = f; I32K(x, ">>=", 30); res[4] = x;
	x = g; I32K(x, "s>>=", 8); res[5] = x;
	x = a; I32K(x, "s>>=", 30); res[6] = x;
	MOV32K(s, 3); x = b; I32(x, "<<=", s); res[7] = x;
	MOV32K(s, 29); x = c; I32(x, ">>=", s); res[8] = x;
	MOV32K(s, 1); x = e; I32(x, "s>>=", s); res[9] = x;
	MOV32(s, f); I32K(s, "&=", 31); x = a; I32(x, "<<=", s); res[10] = x;
	MOV32(s, g); I32K(s, "&=", 31); x = b; I32(x, "<<=", s); res[11] = x;
	MOV32(s, a); I32K(s, "&=", 31); x = c; I32(x, ">>=", s); res[12] = x;
	MOV32(s, b); I32K(s, "&=", 31); x = e; I32(x, ">>=", s); res[13] = x;
	MOV32(s, c); I32K(s, "&=", 31); x = f; I32(x, "s>>=", s); res[14] = x;
	MOV32(s, e); I32K(s, "&=", 31); x = g; I32(x, "s>>=", s); res[15] = x;
	s = LD8(d + 15); I32K(s, "&=", 31); x = a; I32(x, "<<=", s); res[16] = x;
	s = LD8(d + 16); I32K(s, "&=", 31); x = b; I32(x, ">>=", s); res[17] = x;
	s = LD8(d + 17); I32K(s, "&=", 31); x = c; I32(x, "s>>=", s); res[18] = x;
	s = LD8(d + 26); I32K(s, ">>=", 3); x = e; I32(x, "<<=", s); res[19] = x;
	s = LD8(d + 27); I32K(s, ">>=", 3); x = f; I32(x, ">>=", s); res[20] = x;
	s = LD8(d + 28); I32K(s, ">>=", 3); x = g; I32(x, "s>>=", s); res[21] = x;
	x = a; I32K(x, "|=", -0x80000000); MOV32(s, b); I32K(s, "&=", 31); I32(x, "s>>=", s); res[22] = x;
	x = b; I32K(x, "&=", 0x7fffffff); MOV32(s, c); I32K(s, "&=", 31); I32(x, "s>>=", s); res[23] = x;
	x = c; MOV32(s, e); I32K(s, "&=", 15); I32(x, "<<=", s); I32(x, ">>=", s); res[24] = x;
	x = e; MOV32(s, f); I32K(s, "&=", 15); I32K(s, "|=", 16); I32(x, "<<=", s); I32(x, "s>>=", s); res[25] = x;
	MOV32(s, g); I32K(s, "&=", 31); MOV32K(x, 1); I32(x, "<<=", s); res[26] = x;
	MOV32(s, a); I32K(s, "&=", 31); MOV32K(x, -1); I32(x, ">>=", s); res[27] = x;

	FLUSH(d, end, 28, h);
	return verdict(h);
}

LICENSE;
