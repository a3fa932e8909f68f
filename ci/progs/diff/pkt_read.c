// Packet reads of 1, 2, 4 and 8 bytes at aligned and unaligned offsets, near
// and far (within one 64-byte window of the nfp JIT's packet cache, across
// windows, beyond 256 and near the end of a full-size frame), each behind the
// bounds check it needs: short frames take other paths.
#include "diff.h"

SEC("xdp")
int pkt_read(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u64 h = 0;
	int ret = XDP_PASS;

	if (d + 60 > end)
		return XDP_DROP;
	RESULTS(20);
	res[0] = LD8(d + 0) | (u64)LD8(d + 1) << 8 | (u64)LD8(d + 3) << 16 | (u64)LD8(d + 59) << 24;
	res[1] = LD16(d + 5) | (u64)LD16(d + 12) << 16 | (u64)LD16(d + 33) << 32 | (u64)LD16(d + 58) << 48;
	res[2] = LD32(d + 7) ^ (u64)LD32(d + 14) << 32;
	res[3] = LD64(d + 13) + LD64(d + 52);
	res[4] = LD64(d + 1) ^ LD32(d + 29);
	if (d + 130 <= end) {
		res[5] = LD64(d + 61) ^ LD8(d + 63);
		res[6] = LD32(d + 64) | (u64)LD16(d + 65) << 32;
		res[7] = LD64(d + 100) - LD64(d + 122);
		res[8] = LD8(d + 127) + LD8(d + 128) + LD8(d + 129);
		ret = XDP_TX;
	} else {
		res[5] = 1; res[6] = 2; res[7] = 3; res[8] = 4;
	}
	if (d + 264 <= end) {
		res[9] = LD64(d + 255) ^ LD64(d + 256);
		res[10] = LD16(d + 200) | (u64)LD32(d + 201) << 16;
		res[11] = LD64(d + 131) + LD64(d + 190);
		ret = XDP_PASS;
	} else {
		res[9] = 5; res[10] = 6; res[11] = 7;
	}
	if (d + 1514 <= end) {
		res[12] = LD64(d + 1000) ^ LD64(d + 1337);
		res[13] = LD64(d + 1506) + LD8(d + 1513);
		res[14] = LD32(d + 1024) | (u64)LD16(d + 1500) << 32;
		ret = XDP_TX;
	} else if (d + 1001 <= end) {
		res[12] = LD64(d + 993);
		res[13] = LD8(d + 1000);
		res[14] = 8;
		ret = XDP_DROP;
	} else {
		res[12] = 9; res[13] = 10; res[14] = 11;
	}
	/* one window read twice, with different sizes and shifts */
	res[15] = LD64(d + 40);
	res[16] = LD32(d + 40) ^ LD32(d + 44);
	res[17] = LD16(d + 46) | (u64)LD8(d + 47) << 16;
	res[18] = (u64)LD8(d + 2) << 56 | (u64)LD8(d + 4) << 48 | LD8(d + 6);
	res[19] = LD16(d + 16) * (u64)LD8(d + 17);

	FLUSH(d, end, 20, h);
	if (ret == XDP_PASS && (h & 0x300) == 0x300)
		return XDP_DROP;
	return ret;
}

LICENSE;
