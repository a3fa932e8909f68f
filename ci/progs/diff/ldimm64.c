// 64-bit immediates (ld_imm64 with equal halves, zero halves, negative
// values) and 32-bit / 64-bit moves of immediates (zero vs sign extension),
// combined with packet data.
#include "diff.h"

SEC("xdp")
int ldimm64(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u64 a, b, x, k, h;
	u32 w;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD64(d + 14);
	b = LD64(d + 40);
	RESULTS(16);

	LDIMM64(k, 0x1234567812345678); x = a; I64(x, "^=", k); res[0] = x;
	LDIMM64(k, 0x00000000ffffffff); x = b; I64(x, "&=", k); res[1] = x;
	LDIMM64(k, 0xffffffff00000000); x = a; I64(x, "&=", k); res[2] = x;
	LDIMM64(k, 0x8000000000000000); x = b; I64(x, "+=", k); res[3] = x;
	LDIMM64(k, 0xfedcba9876543210); x = a; I64(x, "-=", k); res[4] = x;
	LDIMM64(k, 0x0000000100000000); x = b; I64(x, "|=", k); res[5] = x;
	LDIMM64(k, 0); x = a; I64(x, "+=", k); res[6] = x;
	LDIMM64(k, -1); res[7] = k;
	LDIMM64(k, 0x7fffffffffffffff); x = b; I64(x, "^=", k); res[8] = x;
	MOV32K(w, -1); res[9] = w;
	MOV64K(x, -1); res[10] = x;
	MOV32K(w, 0x80000000); x = w; I64(x, "+=", a); res[11] = x;
	MOV64K(x, -0x80000000); I64(x, "+=", b); res[12] = x;
	LDIMM64(k, 0xdeadbeefcafef00d); x = a; I64(x, "<<=", k); res[13] = x; /* amount 13 */
	LDIMM64(k, 0x0000002000000020); res[14] = k;
	LDIMM64(k, 0x5555555555555555); x = a; I64(x, "^=", b); I64(x, "&=", k); res[15] = x;

	FLUSH(d, end, 16, h);
	return verdict(h);
}

LICENSE;
