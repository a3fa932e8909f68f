// Stack writes and reads of 1, 2, 4 and 8 bytes inside a frame of at most 64
// bytes (the nfp JIT's direct local-memory addressing), including
// constants, reads of other sizes than the writes (byte lanes within words)
// and partial overwrites.
#include "diff.h"

SEC("xdp")
int stack_small(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	volatile u64 st[7];
	volatile u8 *sb = (volatile u8 *)st;
	u64 h;

	if (d + 60 > end)
		return XDP_DROP;
	ST64(&st[0], LD64(d + 14));
	ST32(sb + 8, LD32(d + 22));
	ST32(sb + 12, LD32(d + 26));
	ST16(sb + 16, LD16(d + 30));
	ST16(sb + 18, LD16(d + 32));
	ST16(sb + 20, LD16(d + 34));
	ST16(sb + 22, LD16(d + 36));
	ST8(sb + 24, LD8(d + 38));
	ST8(sb + 25, LD8(d + 39));
	ST8(sb + 26, LD8(d + 40));
	ST8(sb + 27, LD8(d + 41));
	ST8(sb + 28, LD8(d + 42));
	ST8(sb + 29, LD8(d + 43));
	ST8(sb + 30, LD8(d + 44));
	ST8(sb + 31, LD8(d + 45));
	/* constants (through a register: the nfp JIT has no BPF_ST to the stack) */
	ST64(sb + 32, -0x12345679LL);
	ST32(sb + 40, 0x7654321);
	ST16(sb + 44, 0xbeef);
	ST8(sb + 46, 0xa5);
	ST8(sb + 47, 0xff);
	ST64(&st[6], LD64(d + 46));

	h = LD64(d);
	h = rotl64(h, 7) ^ LD64(&st[1]); ST64(d + 14, LD64(&st[1]));
	h = rotl64(h, 7) ^ LD64(&st[2]); ST64(d + 22, LD64(&st[2]));
	h = rotl64(h, 7) ^ LD64(&st[3]); ST64(d + 30, LD64(&st[3]));
	ST32(d + 38, LD32(sb + 4));
	ST16(d + 42, LD16(sb + 2));
	ST16(d + 44, LD16(sb + 6));
	ST8(d + 46, LD8(sb + 1));
	ST8(d + 47, LD8(sb + 3));
	ST8(d + 48, LD8(sb + 5));
	ST8(d + 49, LD8(sb + 7));
	h = rotl64(h, 7) ^ LD64(&st[4]); ST64(d + 50, LD64(&st[4]));
	h = rotl64(h, 7) ^ LD64(&st[5]);
	h = rotl64(h, 7) ^ LD32(sb + 36) ^ LD16(sb + 34) ^ LD8(sb + 45);
	ST8(sb + 49, LD8(d + 13));
	ST16(sb + 54, LD16(d + 11));
	h = rotl64(h, 7) ^ LD64(&st[6]);
	ST32(sb + 52, h);
	h = rotl64(h, 7) ^ LD64(&st[6]) ^ LD8(sb + 0);
	ST64(d + 6, LD64(&st[6]));
	ST64(d, h);
	return verdict(h);
}

LICENSE;
