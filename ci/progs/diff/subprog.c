// BPF-to-BPF calls (the nfp JIT supports them with its own return-address
// and register-saving convention): a leaf function with its own stack frame,
// a function using callee-saved registers that calls another one, results
// through R0 and through a stack pointer argument.
#include "diff.h"

static __attribute__((noinline)) u64 leaf(u64 a, u64 b)
{
	volatile u64 t[3];

	t[0] = a;
	t[1] = b ^ (a >> 7);
	t[2] = t[0] + t[1];
	return rotl64(t[2], 13) ^ t[1];
}

static __attribute__((noinline)) u64 middle(u64 a, u64 b, u64 c)
{
	u64 x = leaf(a, b);
	u64 y = leaf(x, c);
	u64 z = leaf(y ^ a, x);

	return x + y - z + (a >> 3) - (b << 2) + c;
}

static __attribute__((noinline)) void fill(volatile u64 *out, u64 v)
{
	out[0] = v;
	out[1] = ~v;
	out[2] = v >> 32 | v << 32;
}

SEC("xdp")
int subprog(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	volatile u64 out[3];
	u64 a, b, c, r;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD64(d + 14);
	b = LD64(d + 22);
	c = LD64(d + 30);
	r = middle(a, b, c);
	fill(out, r ^ leaf(c, a));
	ST64(d + 14, r);
	ST64(d + 22, out[0]);
	ST64(d + 30, out[1]);
	ST64(d + 38, out[2]);
	ST64(d, leaf(r, LD64(d)));
	return verdict(r);
}

LICENSE;
