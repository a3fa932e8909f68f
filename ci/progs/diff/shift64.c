// 64-bit shifts by registers, in each of the nfp JIT's three code shapes:
// amount known < 32, known >= 32, and a run-time choice between the two
// (range 0..63), for lsh, rsh and arsh; amounts 0 (rsh/arsh), 1..63.
//
// Shift amounts 0, 31, 32, 63 in the bytes the program reads them from:
// xdp-diff: frame 02000000000a02000000000b88b5 0000000000000000 00001f203f000000 ffffffffffffffff 8000000000000000 0123456789abcdef fedcba9876543210
// xdp-diff: frame 02000000000a02000000000b88b5 ffffffffffffffff 201f3f0040202020 0000000000000001 7fffffffffffffff 8000000000000001 00000000ffffffff
#include "diff.h"

SEC("xdp")
int shift64(struct xdp_md *ctx)
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
	RESULTS(30);

	/* amount in 1..31 (lsh) / 0..31 (rsh, arsh) */
	MOV64(s, g); I64K(s, "&=", 31); I64K(s, "|=", 1); x = a; I64(x, "<<=", s); res[0] = x;
	MOV64(s, f); I64K(s, "&=", 31); I64K(s, "|=", 1); x = b; I64(x, "<<=", s); res[1] = x;
	MOV64(s, e); I64K(s, "&=", 31); x = c; I64(x, ">>=", s); res[2] = x;
	MOV64(s, a); I64K(s, "&=", 31); x = f; I64(x, ">>=", s); res[3] = x;
	MOV64(s, b); I64K(s, "&=", 31); x = g; I64(x, "s>>=", s); res[4] = x;
	MOV64(s, c); I64K(s, "&=", 31); x = e; I64(x, "s>>=", s); res[5] = x;
	/* amount in 32..63 */
	MOV64(s, g); I64K(s, "&=", 31); I64K(s, "|=", 32); x = a; I64(x, "<<=", s); res[6] = x;
	MOV64(s, f); I64K(s, "&=", 31); I64K(s, "|=", 32); x = b; I64(x, ">>=", s); res[7] = x;
	MOV64(s, e); I64K(s, "&=", 31); I64K(s, "|=", 32); x = c; I64(x, "s>>=", s); res[8] = x;
	MOV64(s, a); I64K(s, "|=", 32); I64K(s, "&=", 63); x = f; I64(x, "s>>=", s); res[9] = x;
	/* amount in 1..63 (lsh) / 0..63 (rsh, arsh): run-time choice */
	MOV64(s, b); I64K(s, "&=", 63); I64K(s, "|=", 1); x = e; I64(x, "<<=", s); res[10] = x;
	MOV64(s, c); I64K(s, "&=", 63); I64K(s, "|=", 1); x = g; I64(x, "<<=", s); res[11] = x;
	MOV64(s, e); I64K(s, "&=", 63); x = a; I64(x, ">>=", s); res[12] = x;
	MOV64(s, f); I64K(s, "&=", 63); x = b; I64(x, ">>=", s); res[13] = x;
	MOV64(s, g); I64K(s, "&=", 63); x = c; I64(x, "s>>=", s); res[14] = x;
	MOV64(s, a); I64K(s, "&=", 63); x = f; I64(x, "s>>=", s); res[15] = x;
	/* amounts from single packet bytes (often small, 0, 31, 32, 63) */
	s = LD8(d + 20); I64K(s, "&=", 63); x = a; I64(x, ">>=", s); res[16] = x;
	s = LD8(d + 21); I64K(s, "&=", 63); x = b; I64(x, "s>>=", s); res[17] = x;
	s = LD8(d + 23); I64K(s, "&=", 63); I64K(s, "|=", 1); x = c; I64(x, "<<=", s); res[18] = x;
	s = LD8(d + 24); I64K(s, ">>=", 2); I64K(s, "|=", 1); x = e; I64(x, "<<=", s); res[19] = x;
	s = LD8(d + 25); I64K(s, ">>=", 2); x = f; I64(x, ">>=", s); res[20] = x;
	s = LD8(d + 26); I64K(s, ">>=", 2); x = g; I64(x, "s>>=", s); res[21] = x;
	/* shifting values with the sign bit set / clear, chained */
	x = a; I64K(x, "|=", -0x80000000); MOV64(s, b); I64K(s, "&=", 63); I64(x, "s>>=", s); res[22] = x;
	x = b; I64K(x, "&=", 0x7fffffff); MOV64(s, c); I64K(s, "&=", 63); I64(x, "s>>=", s); res[23] = x;
	x = c; MOV64(s, e); I64K(s, "&=", 15); I64K(s, "|=", 1); I64(x, "<<=", s); I64(x, ">>=", s); res[24] = x;
	x = e; MOV64(s, f); I64K(s, "&=", 15); I64K(s, "|=", 48); I64(x, "<<=", s); I64(x, "s>>=", s); res[25] = x;
	x = f; MOV64(s, g); I64K(s, "&=", 7); I64K(s, "|=", 28); I64(x, ">>=", s); I64(x, "<<=", s); res[26] = x;
	x = g; MOV64(s, a); I64K(s, "&=", 63); I64(x, "s>>=", s); I64K(s, "|=", 1); I64(x, "<<=", s); res[27] = x;
	MOV64(s, b); I64K(s, "&=", 63); I64K(s, "|=", 1); MOV64K(x, 1); I64(x, "<<=", s); res[28] = x;
	MOV64(s, c); I64K(s, "&=", 63); MOV64K(x, -1); I64(x, ">>=", s); res[29] = x;

	FLUSH(d, end, 30, h);
	return verdict(h);
}

LICENSE;
