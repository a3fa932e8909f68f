// Byte swaps (BPF_END to big endian, the only form the nfp JIT has): be16,
// be32, be64 on registers with data in every byte (be16/be32 must clear the
// upper bits), and bpf_htons/htonl/be64 on packet fields as C writes them.
#include "diff.h"
#include <bpf/bpf_endian.h>

SEC("xdp")
int bswap(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u64 a, b, c, x, h;
	u32 w;
	u16 v;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD64(d + 14);
	b = LD64(d + 25);
	c = LD64(d + 47);
	RESULTS(14);

	x = a; BE(x, 16); res[0] = x;
	x = a; BE(x, 32); res[1] = x;
	x = a; BE(x, 64); res[2] = x;
	x = b; BE(x, 16); BE(x, 16); res[3] = x;
	x = b; BE(x, 32); BE(x, 64); res[4] = x;
	x = c; BE(x, 64); BE(x, 64); res[5] = x;
	x = c; BE(x, 64); BE(x, 32); BE(x, 16); res[6] = x;
	x = a; I64(x, "^=", b); BE(x, 32); I64K(x, "+=", 1); BE(x, 32); res[7] = x;
	v = LD16(d + 26); res[8] = bpf_ntohs(v) + 1;
	w = LD32(d + 30); res[9] = bpf_ntohl(w) - 1;
	x = LD64(d + 34); res[10] = bpf_be64_to_cpu(x) >> 3;
	/* writes in network order */
	ST16(d + 12, bpf_htons(bpf_ntohs(LD16(d + 12)) ^ 0x0101));
	w = LD32(d + 8);
	res[11] = w;
	res[12] = bpf_htonl(w + 0x01000001);
	x = c; BE(x, 16); I64K(x, "<<=", 48); BE(x, 64); res[13] = x;

	FLUSH(d, end, 14, h);
	return verdict(h);
}

LICENSE;
