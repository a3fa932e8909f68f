// The classic reflector: swap the Ethernet addresses with 2- and 4-byte
// moves and send the frame back (XDP_TX); broadcast and multicast sources are
// dropped, frames for other protocols than IPv4/IPv6/ARP passed.
#include "diff.h"
#include <bpf/bpf_endian.h>

SEC("xdp")
int reflect(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u32 d0, s0;
	u16 d1, s1, proto;

	if (d + 14 > end)
		return XDP_ABORTED;
	if (LD8(d + 6) & 1)
		return XDP_DROP;
	proto = bpf_ntohs(LD16(d + 12));
	if (proto != 0x0800 && proto != 0x86dd && proto != 0x0806)
		return XDP_PASS;
	d0 = LD32(d);
	d1 = LD16(d + 4);
	s0 = LD32(d + 6);
	s1 = LD16(d + 10);
	ST32(d, s0);
	ST16(d + 4, s1);
	ST32(d + 6, d0);
	ST16(d + 10, d1);
	return XDP_TX;
}

LICENSE;
