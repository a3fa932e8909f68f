// Stack accesses of 1, 2, 4 and 8 bytes far from the frame base (a 384-byte
// frame: the nfp JIT's indirect local-memory addressing, within one 32-byte
// window and across windows), and accesses through a
// stack pointer whose offset differs from path to path (the JIT's
// incrementing-pointer form).
#include "diff.h"

SEC("xdp")
int stack_large(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	volatile u64 big[48];
	volatile u8 *bb = (volatile u8 *)big;
	volatile u8 *p;
	u64 a, b, x, h, sel;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD64(d + 14);
	b = LD64(d + 22);
	x = a;
#pragma clang loop unroll(full)
	for (int i = 0; i < 48; i++) {
		big[i] = x;
		I64(x, "+=", b);
	}

	ST8(bb + 100, LD8(d + 30));
	ST16(bb + 130, LD16(d + 31));
	ST32(bb + 200, LD32(d + 33));
	ST64(bb + 256, b);
	ST8(bb + 383, LD8(d + 37));
	ST32(bb + 300, 0x11223344);
	ST16(bb + 334, 0xfffe);
	ST8(bb + 349, 0x80);
	ST64(bb + 352, 0x7abcdef0);
	ST16(bb + 258, LD16(d + 38));
	ST8(bb + 263, LD8(d + 40));

	h = LD64(d);
	h = rotl64(h, 7) ^ LD64(bb + 96);
	h = rotl64(h, 7) ^ LD32(bb + 132);
	h = rotl64(h, 7) ^ LD16(bb + 202);
	h = rotl64(h, 7) ^ LD8(bb + 259);
	h = rotl64(h, 7) ^ LD64(bb + 376);
	h = rotl64(h, 7) ^ LD64(bb + 296);
	h = rotl64(h, 7) ^ LD32(bb + 332);
	h = rotl64(h, 7) ^ LD64(bb + 344);
	h = rotl64(h, 7) ^ LD64(bb + 352);
	ST64(d + 14, LD64(bb + 256));
	ST64(d + 22, LD64(bb + 200));
	ST32(d + 30, LD32(bb + 100));
	ST16(d + 34, LD16(bb + 130));
	ST8(d + 36, LD8(bb + 383));

	/* p = bb + 64 or bb + 256, decided by a packet bit */
	sel = LD8(d + 41);
	I64K(sel, "&=", 1);
	asm volatile("%0 = %1\n if %2 == 0 goto +1\n %0 += 192" : "=r"(p) : "r"(bb + 64), "r"(sel));
	ST64(p + 8, LD64(d + 42));
	ST32(p + 20, LD32(d + 50));
	ST16(p + 30, LD16(d + 54));
	ST8(p + 33, LD8(d + 56));
	h = rotl64(h, 7) ^ LD64(p + 16);
	h = rotl64(h, 7) ^ LD64(p + 24);
	h = rotl64(h, 7) ^ LD64(p + 32);
	h = rotl64(h, 7) ^ LD8(p + 21);
	ST64(d + 38, LD64(p + 8));
	ST64(d + 46, LD64(p + 32));
	/* a second one: three possible offsets, 4-byte aligned */
	sel = LD8(d + 57);
	I64K(sel, "&=", 3);
	asm volatile("%0 = %1\n if %2 == 0 goto +3\n %0 += 36\n if %2 == 1 goto +1\n %0 += 300"
		     : "=r"(p) : "r"(bb + 4), "r"(sel));
	ST32(p, h);
	ST8(p + 3, LD8(d + 58));
	h = rotl64(h, 7) ^ LD32(p) ^ LD16(p + 2);
	h = rotl64(h, 7) ^ LD64(bb + 32) ^ LD64(bb + 320);
	ST64(d + 52, LD64(bb + 32));
	ST64(d, h);
	return verdict(h);
}

LICENSE;
