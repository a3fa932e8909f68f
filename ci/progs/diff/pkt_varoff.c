// Packet access at run-time offsets: offsets taken from packet bytes (masked,
// scaled like an IP header length), each checked against data_end before
// use; reads and writes relative to the variable pointer, and at the end of
// the frame (data_end - n). Failed checks give their own verdicts.
#include "diff.h"

SEC("xdp")
int pkt_varoff(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u8 *p, *q;
	u64 off, h, len;

	if (d + 60 > end)
		return XDP_DROP;
	h = LD64(d);
	off = LD8(d + 14) & 0x3f;
	p = d + off;
	if (p + 12 > end)
		return XDP_ABORTED;
	h = rotl64(h, 7) ^ LD64(p) ^ LD16(p + 10);
	ST32(p + 1, h);
	off = (LD8(d + 15) & 0xf) << 2;
	q = d + 14 + off;
	if (q + 8 > end)
		return XDP_DROP;
	h = rotl64(h, 7) ^ LD32(q) ^ LD8(q + 7);
	ST8(q + 2, h);
	ST16(q + 5, h >> 8);
	off = LD16(d + 16) & 0x7ff;
	p = d + off;
	if (p + 4 > end) {
		ST64(d, h);
		return XDP_PASS;
	}
	h = rotl64(h, 7) ^ LD32(p);
	ST16(p + 1, h);
	len = (u64)(end - d);
	ST16(d + 12, len);
	off = (len - 8) & 0xfff;
	p = d + off;
	if (p + 8 > end)
		return XDP_ABORTED;
	h = rotl64(h, 7) ^ LD64(p);
	ST32(p + 4, h);
	ST64(d, h);
	if ((h & 7) == 7)
		return 7;
	return XDP_TX;
}

LICENSE;
