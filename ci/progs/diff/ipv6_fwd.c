// A realistic IPv6 handler: header checks (version, payload length against
// the frame), hop limit, a bounded walk over up to four extension headers
// (hop-by-hop, routing, destination options, fragment), address swap, UDP
// and TCP port swap, ICMPv6 echo reply with an incremental checksum update.
#include "diff.h"
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int ipv6_fwd(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	struct ethhdr *eth = (void *)d;
	struct ipv6hdr *ip6;
	u8 *l4, nh;
	u64 a0, a1;
	u32 s, plen;

	if (d + sizeof(*eth) > end)
		return XDP_ABORTED;
	if (eth->h_proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;
	ip6 = (void *)(eth + 1);
	if ((u8 *)(ip6 + 1) > end)
		return XDP_ABORTED;
	if (ip6->version != 6)
		return XDP_DROP;
	plen = bpf_ntohs(ip6->payload_len);
	I32K(plen, "&=", 0xffff); /* the verifier loses the bound in be16 */
	if ((u8 *)(ip6 + 1) + plen > end)
		return 6;
	if (ip6->hop_limit <= 1)
		return XDP_DROP;
	ip6->hop_limit--;
	a0 = *(u64 *)&ip6->saddr;
	a1 = *((u64 *)&ip6->saddr + 1);
	*(u64 *)&ip6->saddr = *(u64 *)&ip6->daddr;
	*((u64 *)&ip6->saddr + 1) = *((u64 *)&ip6->daddr + 1);
	*(u64 *)&ip6->daddr = a0;
	*((u64 *)&ip6->daddr + 1) = a1;
	nh = ip6->nexthdr;
	l4 = (u8 *)(ip6 + 1);
#pragma clang loop unroll(disable)
	for (int i = 0; i < 4; i++) {
		if (nh != 0 && nh != 43 && nh != 60 && nh != 44)
			break;
		if (l4 + 8 > end)
			return XDP_ABORTED;
		nh = l4[0];
		if (l4[0 + 0] == 0xff)
			return XDP_DROP;
		l4 += nh == 44 ? 8 : (l4[1] + 1) * 8;
		if (l4 > d + 512)
			return XDP_ABORTED;
	}
	if (l4 + 8 > end)
		return XDP_PASS;
	if (nh == IPPROTO_UDP || nh == IPPROTO_TCP) {
		u16 sp = *(u16 *)l4;
		*(u16 *)l4 = *(u16 *)(l4 + 2);
		*(u16 *)(l4 + 2) = sp;
		return (sp & 1) ? XDP_TX : XDP_PASS;
	}
	if (nh == 58 /* ICMPv6 */ && l4[0] == 128) {
		l4[0] = 129;
		s = (u16)~bpf_ntohs(*(u16 *)(l4 + 2)) + (u16)~0x8000 + 0x8100;
		s = (s & 0xffff) + (s >> 16);
		s = (s & 0xffff) + (s >> 16);
		*(u16 *)(l4 + 2) = bpf_htons(~s);
		return XDP_TX;
	}
	return 9;
}

LICENSE;
