// A jhash-style mix of the first 40 bytes after the Ethernet header (32-bit
// rotates built from shifts, add/sub/xor), the hash written into the frame
// and used to spread frames over all verdicts.
#include "diff.h"

static __always_inline u32 rol32(u32 x, int k)
{
	return (x << k) | (x >> (32 - k));
}

#define MIX(a, b, c)                            \
	do {                                    \
		a -= c; a ^= rol32(c, 4); c += b; \
		b -= a; b ^= rol32(a, 6); a += c; \
		c -= b; c ^= rol32(b, 8); b += a; \
		a -= c; a ^= rol32(c, 16); c += b; \
		b -= a; b ^= rol32(a, 19); a += c; \
		c -= b; c ^= rol32(b, 4); b += a; \
	} while (0)

SEC("xdp")
int hash(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u32 a, b, c;

	if (d + 54 > end)
		return XDP_ABORTED;
	a = b = c = 0xdeadbeef + (u32)(end - d);
#pragma clang loop unroll(full)
	for (int i = 0; i < 3; i++) {
		a += LD32(d + 14 + 12 * i);
		b += LD32(d + 18 + 12 * i);
		c += LD32(d + 22 + 12 * i);
		MIX(a, b, c);
	}
	c ^= b; c -= rol32(b, 14);
	a ^= c; a -= rol32(c, 11);
	b ^= a; b -= rol32(a, 25);
	c ^= b; c -= rol32(b, 16);
	ST32(d + 50, c);
	ST32(d + 6, a ^ b);
	return ((u64)c * 5) >> 32;
}

LICENSE;
