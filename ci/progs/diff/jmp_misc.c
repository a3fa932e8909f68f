// Control flow odds and ends: unconditional jumps (ja) forward and over
// blocks, jne/jeq against 0 (the JIT's short forms, 64- and 32-bit),
// branches the verifier can decide (it hard-wires or removes them), several
// exits, and jumps whose targets are other jumps.
#include "diff.h"

SEC("xdp")
int jmp_misc(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u64 a, b, t, acc = 0, h;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD64(d + 14);
	b = LD64(d + 22);
	t = LD8(d + 30);
	I64K(t, "&=", 7);
	J64K(acc, t, "==", 0); J64K(acc, t, "!=", 0);
	J32K(acc, (u32)t, "==", 0); J32K(acc, (u32)t, "!=", 0);
	J64K(acc, a, "==", 0); J64K(acc, a, "!=", 0);
	J32K(acc, (u32)b, "==", 0); J32K(acc, (u32)b, "!=", 0);
	/* if/else with a ja over the else block */
	asm volatile(
		"%0 <<= 2\n"
		"if %1 > 3 goto +2\n"
		"%0 |= 1\n"
		"goto +1\n"
		"%0 |= 2\n"
		: "+r"(acc) : "r"(t));
	/* t < 8: "t > 100" is never true, "t < 8" always (verifier-decided) */
	asm volatile(
		"%0 <<= 2\n"
		"if %1 > 100 goto +1\n"
		"%0 |= 1\n"
		"if %1 < 8 goto +1\n"
		"%0 |= 2\n"
		: "+r"(acc) : "r"(t));
	/* a jump to a jump to a jump */
	asm volatile(
		"%0 <<= 3\n"
		"if %1 s> %2 goto +3\n"
		"%0 |= 1\n"
		"if %1 == %2 goto +2\n"
		"goto +2\n"
		"goto +0\n"
		"%0 |= 2\n"
		"%0 |= 4\n"
		: "+r"(acc) : "r"(a), "r"(b));
	h = rotl64(LD64(d), 7) ^ acc;
	ST64(d + 14, acc);
	ST64(d, h);
	if (t == 6)
		return XDP_DROP;
	if (t == 5) {
		ST8(d + 22, 0xee);
		return XDP_TX;
	}
	if ((a ^ b) & 1)
		return XDP_PASS;
	return verdict(h);
}

LICENSE;
