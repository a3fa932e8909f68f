// Loops (backward jumps): the IPv4 header checksum recomputed over IHL
// 16-bit words with a bounded, not unrolled loop, compared with the one in
// the frame and written back; a second loop sums the first 64 payload bytes
// when present.
#include "diff.h"
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int csum_loop(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u8 *ip = d + ETH_HLEN;
	u32 s = 0, n, t = 0;
	u16 old;

	if (ip + 20 > end)
		return XDP_DROP;
	n = (LD8(ip) & 0xf) * 2;
	if (n < 10)
		n = 10;
	old = LD16(ip + 10);
	ST16(ip + 10, 0);
#pragma clang loop unroll(disable)
	for (u32 i = 0; i < 30; i++) {
		u8 *w = ip + 2 * i;

		if (i >= n)
			break;
		if (w + 2 > end)
			return XDP_ABORTED;
		s += bpf_ntohs(LD16(w));
	}
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	ST16(ip + 10, bpf_htons(~s));
#pragma clang loop unroll(disable)
	for (u32 i = 0; i < 64; i += 4) {
		u8 *w = ip + 60 + i;

		if (w + 4 > end)
			break;
		t = (t << 3 | t >> 29) ^ LD32(w);
	}
	ST32(d + 6, t);
	if (old == LD16(ip + 10))
		return XDP_TX;
	return (t & 1) ? XDP_PASS : XDP_DROP;
}

LICENSE;
