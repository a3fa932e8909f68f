// Packet writes of 1, 2, 4 and 8 bytes (of packet data and of constants) at
// aligned and unaligned offsets, overlapping writes, reads right after writes
// (the JIT's packet cache must not keep stale data), and far writes behind
// bounds checks. (Constants go through a register: the nfp JIT in Linux 6.12
// fails to translate BPF_ST, see diff.h.)
#include "diff.h"

SEC("xdp")
int pkt_write(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u64 a, b, h;
	u32 w;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD64(d + 14);
	b = LD64(d + 26);
	w = LD32(d + 40);
	h = LD64(d + 50);

	ST8(d + 15, a >> 8);
	ST16(d + 17, b);
	ST32(d + 21, w + 1);
	ST64(d + 27, a ^ b);
	ST8(d + 1, 0x42);
	ST16(d + 3, 0x1234);
	ST32(d + 7, -0x789abcdf);
	ST64(d + 35, 0x55aa55aa);
	ST64(d + 43, -3);
	/* overlapping: the last write wins byte by byte */
	ST64(d + 44, h);
	ST32(d + 46, a);
	ST16(d + 47, b);
	ST8(d + 48, w);
	/* read back what was just written */
	h = rotl64(h, 7) ^ LD64(d + 44);
	h = rotl64(h, 7) ^ LD32(d + 20);
	ST16(d + 52, h);
	h = rotl64(h, 7) ^ LD64(d + 49);
	if (d + 200 <= end) {
		ST64(d + 120, h);
		ST32(d + 125, 0x01020304);
		ST8(d + 199, h >> 56);
		h = rotl64(h, 7) ^ LD64(d + 121) ^ LD8(d + 199);
		ST16(d + 150, LD16(d + 126));
	}
	if (d + 1200 <= end) {
		ST64(d + 1100, a);
		ST16(d + 1190, 0x7777);
		ST32(d + 1195, LD32(d + 1100));
		h = rotl64(h, 7) ^ LD64(d + 1192);
	}
	if (d + 1514 <= end) {
		ST64(d + 1506, h);
		ST8(d + 1513, 0xee);
	}
	ST32(d + 54, h);
	return verdict(h);
}

LICENSE;
