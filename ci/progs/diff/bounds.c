// A ladder of bounds checks (14, 34, 54, 64, 65, 128, 256, 512, 1024, 1500,
// 1514 bytes): which of them pass decides the bytes written and the verdict,
// so frames of every length take a different path.
#include "diff.h"

SEC("xdp")
int bounds(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u32 steps = 0;
	u8 x = 0;

	if (d + 14 > end)
		return XDP_ABORTED;
	x ^= LD8(d + 13);
	steps |= 1;
	if (d + 34 <= end) {
		x ^= LD8(d + 33); steps |= 2;
		if (d + 54 <= end) {
			x ^= LD8(d + 53); steps |= 4;
			if (d + 64 <= end) {
				x ^= LD8(d + 63); steps |= 8;
				if (d + 65 <= end) {
					x ^= LD8(d + 64); steps |= 16;
					if (d + 128 <= end) {
						x ^= LD8(d + 127); steps |= 32;
						if (d + 256 <= end) {
							x ^= LD8(d + 255); steps |= 64;
							if (d + 512 <= end) {
								x ^= LD8(d + 511); steps |= 128;
								if (d + 1024 <= end) {
									x ^= LD8(d + 1023); steps |= 256;
									if (d + 1500 <= end) {
										x ^= LD8(d + 1499); steps |= 512;
										if (d + 1514 <= end) {
											x ^= LD8(d + 1513);
											steps |= 1024;
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
	ST16(d + 6, steps);
	ST8(d + 8, x);
	if (steps & 512)
		return XDP_TX;
	if (steps & 32)
		return x & 1 ? XDP_PASS : XDP_TX;
	if (steps & 8)
		return XDP_PASS;
	return XDP_DROP;
}

LICENSE;
