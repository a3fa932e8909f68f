// A realistic IPv4 handler: Ethernet and IPv4 header checks (version, IHL,
// total length against the frame, fragments), TTL decrement with an
// incremental checksum update (RFC 1624), address and port swap for UDP/TCP,
// ICMP echo turned into a reply. Malformed and truncated frames get their own
// verdicts.
#include "diff.h"
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>

static __always_inline u16 csum_fold(u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (u16)s;
}

SEC("xdp")
int ipv4_fwd(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	struct ethhdr *eth = (void *)d;
	struct iphdr *ip;
	u8 *l4, tmp[ETH_ALEN];
	u32 ihl, tot, saddr, s;
	u16 old, new;

	if (d + sizeof(*eth) > end)
		return XDP_ABORTED;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return eth->h_proto == bpf_htons(ETH_P_IPV6) ? XDP_DROP : XDP_PASS;
	ip = (void *)(eth + 1);
	if ((u8 *)(ip + 1) > end)
		return XDP_ABORTED;
	if (ip->version != 4)
		return XDP_ABORTED;
	ihl = ip->ihl * 4;
	if (ihl < sizeof(*ip))
		return XDP_ABORTED;
	tot = bpf_ntohs(ip->tot_len);
	I32K(tot, "&=", 0xffff); /* the verifier loses the bound in be16 */
	if (tot < ihl || (u8 *)ip + tot > end)
		return 5; /* truncated: out-of-range verdict */
	if (ip->ttl <= 1)
		return XDP_DROP;
	/* TTL decrement, checksum update */
	old = *(u16 *)&ip->ttl;
	ip->ttl--;
	new = *(u16 *)&ip->ttl;
	s = (u16)~bpf_ntohs(ip->check) + (u16)~bpf_ntohs(old) + bpf_ntohs(new);
	ip->check = bpf_htons(~csum_fold(s));
	/* swap addresses */
	saddr = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = saddr;
	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
	if (ip->frag_off & bpf_htons(0x3fff))
		return XDP_PASS;
	ihl &= 0x3c;
	l4 = (u8 *)ip + ihl;
	if (l4 + 8 > end)
		return XDP_ABORTED;
	switch (ip->protocol) {
	case IPPROTO_UDP:
	case IPPROTO_TCP: {
		u16 sp = *(u16 *)l4;
		*(u16 *)l4 = *(u16 *)(l4 + 2);
		*(u16 *)(l4 + 2) = sp;
		if (ip->protocol == IPPROTO_UDP)
			*(u16 *)(l4 + 6) = 0; /* no UDP checksum */
		return bpf_ntohs(sp) < 1024 ? XDP_PASS : XDP_TX;
	}
	case IPPROTO_ICMP:
		if (l4[0] == 8) {
			l4[0] = 0;
			s = (u16)~bpf_ntohs(*(u16 *)(l4 + 2)) + (u16)~0x0800;
			*(u16 *)(l4 + 2) = bpf_htons(~csum_fold(s));
			return XDP_TX;
		}
		return XDP_DROP;
	}
	return XDP_PASS;
}

LICENSE;
