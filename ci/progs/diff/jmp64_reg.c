// Every conditional jump in its 64-bit register form (jeq jne jgt jge jlt jle
// jsgt jsge jslt jsle jset), each on operand pairs that are equal, differ only
// in the upper half, differ in sign, are small, and are arbitrary.
#include "diff.h"

#define ALL64(acc, a, b)                \
	do {                            \
		J64(acc, a, "==", b);   \
		J64(acc, a, "!=", b);   \
		J64(acc, a, ">", b);    \
		J64(acc, a, ">=", b);   \
		J64(acc, a, "<", b);    \
		J64(acc, a, "<=", b);   \
		J64(acc, a, "s>", b);   \
		J64(acc, a, "s>=", b);  \
		J64(acc, a, "s<", b);   \
		J64(acc, a, "s<=", b);  \
		JSET64(acc, a, b);      \
	} while (0)

SEC("xdp")
int jmp64_reg(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u64 a, b, a2, hi, na, sa, sb, acc, h;

	if (d + 60 > end)
		return XDP_DROP;
	a = LD64(d + 14);
	b = LD64(d + 22);
	a2 = LD64(d + 14);	/* equal to a, unknown to the verifier */
	hi = LD64(d + 14);
	I64K(hi, "^=", -0x80000000);	/* upper half and bit 31 differ */
	MOV64(na, a); NEG64(na);
	sa = LD8(d + 30);
	sb = LD8(d + 31);
	I64K(sa, "&=", 3);
	I64K(sb, "&=", 3);
	RESULTS(6);

	acc = 0; ALL64(acc, a, b); ALL64(acc, b, a); res[0] = acc;
	acc = 0; ALL64(acc, a, a2); ALL64(acc, a, hi); res[1] = acc;
	acc = 0; ALL64(acc, hi, a); ALL64(acc, a, na); res[2] = acc;
	acc = 0; ALL64(acc, sa, sb); ALL64(acc, na, sb); res[3] = acc;
	b = LD64(d + 46);
	a = LD64(d + 38);
	acc = 0; ALL64(acc, a, b); ALL64(acc, b, sa); res[4] = acc;
	b = LD64(d + 52);
	acc = 0; ALL64(acc, b, a2); ALL64(acc, hi, b); res[5] = acc;

	FLUSH(d, end, 6, h);
	return verdict(h);
}

LICENSE;
