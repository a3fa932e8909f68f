/* Shared helpers of the differential-fidelity corpus (ci/progs/diff, one XDP
 * program per C file; ci/lib/guest/xdp_diff.py runs them, see
 * ci/scenarios/xdp-diff).
 *
 * Every program of the corpus is run twice on the same frames: offloaded to
 * the card (the nfp JIT's microcode) and on the guest CPU (BPF_PROG_TEST_RUN),
 * and the verdicts and output frames must be identical. Programs therefore
 * read their operands from the packet, write every intermediate result back
 * into the packet and derive the verdict from the data. A program may ask the
 * harness for more frames with "// xdp-diff: ..." lines (see xdp_diff.py).
 *
 * The I64/I32/J64/... macros emit exactly one BPF instruction (inline asm), so
 * that clang cannot fold, narrow or reorder what a program means to test;
 * RAW() emits what clang 14's assembler cannot spell (JSET). Compile with
 * -mcpu=v3 (ALU32 + JMP32; v4 brings instructions the nfp JIT lacks).
 *
 * What the corpus avoids on purpose, because the nfp driver of Linux 6.12
 * refuses it or its microcode differs from the host there:
 *  - BPF_ST (store of an immediate): the nfp verifier hook never records the
 *    pointer type of a BPF_ST, so the JIT fails ("Translation failed with
 *    error -95"), to the packet as well as to the stack;
 *  - 64-bit add/sub and jge/jlt/jsge/jslt (jmp32 jsge/jslt too) with the
 *    immediate INT_MIN: the JIT's negative-immediate rewrite (sub -> add of
 *    -imm) overflows and computes something else;
 *  - 64-bit left shifts by a register that can be 0 at run time when the
 *    verifier's range of the amount includes values below 32 (the JIT's
 *    dbl_shf by 32 - n is wrong for n = 0; rsh/arsh are fine);
 *  - division by a constant whose sequence ends in a right shift by 0
 *    (1, 28, 56, 112, 216, 641, ...: no post-shift after the reciprocal
 *    multiplication): the JIT emits alu_shf with amount 0, which the
 *    hardware reads as an indirect shift (by the previous ALU instruction's
 *    A operand), so the quotient is wrong on the card;
 *  - shift amounts not masked to 31 / 63 (undefined in BPF);
 *  - mul with an operand the verifier cannot bound by U32_MAX, div by a
 *    non-constant or with a dividend above U32_MAX, mod, signed division
 *    (refused by the nfp verifier hook);
 *  - adjust_tail with delta >= 0 (the card only shrinks; the host grows and
 *    accepts 0); adjust_head moving the start by a total outside -84..+120
 *    (the card's firmware limits, with the packet at offset 128 of its
 *    buffer) unless the host fails as well (below -216 or beyond the frame).
 */
#ifndef DIFF_H
#define DIFF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

#define LICENSE char _license[] SEC("license") = "GPL"

#define PKT(ctx) ((u8 *)(long)(ctx)->data)
#define PKT_END(ctx) ((u8 *)(long)(ctx)->data_end)

/* One load/store of exactly this size (volatile: never merged or split). */
#define LD8(p) (*(volatile u8 *)(p))
#define LD16(p) (*(volatile u16 *)(p))
#define LD32(p) (*(volatile u32 *)(p))
#define LD64(p) (*(volatile u64 *)(p))
#define ST8(p, v) (*(volatile u8 *)(p) = (u8)(v))
#define ST16(p, v) (*(volatile u16 *)(p) = (u16)(v))
#define ST32(p, v) (*(volatile u32 *)(p) = (u32)(v))
#define ST64(p, v) (*(volatile u64 *)(p) = (u64)(v))

/* d OP= s: one ALU64 (I64*) or ALU32 (I32*) instruction; K = immediate. */
#define I64(d, op, s) asm volatile("%0 " op " %1" : "+r"(d) : "r"(s))
#define I64K(d, op, k) asm volatile("%0 " op " " #k : "+r"(d))
#define I32(d, op, s) asm volatile("%0 " op " %1" : "+w"(d) : "w"(s))
#define I32K(d, op, k) asm volatile("%0 " op " " #k : "+w"(d))
/* d = -d; d = be16/32/64 d (BPF_END to big endian); mov */
#define NEG64(d) asm volatile("%0 = -%0" : "+r"(d))
#define NEG32(d) asm volatile("%0 = -%0" : "+w"(d))
#define BE(d, bits) asm volatile("%0 = be" #bits " %0" : "+r"(d))
#define MOV64(d, s) asm volatile("%0 = %1" : "=r"(d) : "r"(s))
#define MOV64K(d, k) asm volatile("%0 = " #k : "=r"(d))
#define MOV32(d, s) asm volatile("%0 = %1" : "=w"(d) : "w"(s))
#define MOV32K(d, k) asm volatile("%0 = " #k : "=w"(d))
#define LDIMM64(d, k) asm volatile("%0 = " #k " ll" : "=r"(d))

/* acc = acc << 1 | (a COND b ? 0 : 1): one conditional jump (taken or not).
 * J64/J32: register operand, J64K/J32K: immediate. acc is a u64. */
#define J64(acc, a, cond, b) \
	asm volatile("%0 <<= 1; if %1 " cond " %2 goto +1; %0 |= 1" : "+r"(acc) : "r"(a), "r"(b))
#define J64K(acc, a, cond, k) \
	asm volatile("%0 <<= 1; if %1 " cond " " #k " goto +1; %0 |= 1" : "+r"(acc) : "r"(a))
#define J32(acc, a, cond, b) \
	asm volatile("%0 <<= 1; if %1 " cond " %2 goto +1; %0 |= 1" : "+r"(acc) : "w"(a), "w"(b))
#define J32K(acc, a, cond, k) \
	asm volatile("%0 <<= 1; if %1 " cond " " #k " goto +1; %0 |= 1" : "+r"(acc) : "w"(a))

/* A raw BPF instruction (for what clang 14 cannot assemble). dst/src: fixed
 * register numbers, the asm around it moves the operands there. */
#define RAW(code, dst, src, off, imm)                                              \
	".quad (" #code ") | ((" #dst ") << 8) | ((" #src ") << 12) | (((" #off ") & 0xffff) << 16) | (((" #imm ") & 0xffffffff) << 32)\n"
/* JSET: acc = acc << 1 | !(a & b); 64-bit (code 0x4d/0x45) and 32-bit (0x4e/0x46). */
#define JSET64(acc, a, b)                                                                \
	asm volatile("%0 <<= 1\n r1 = %1\n r2 = %2\n" RAW(0x4d, 1, 2, 1, 0) "%0 |= 1"  \
		     : "+r"(acc) : "r"(a), "r"(b) : "r1", "r2")
#define JSET64K(acc, a, k)                                                               \
	asm volatile("%0 <<= 1\n r1 = %1\n" RAW(0x45, 1, 0, 1, k) "%0 |= 1"             \
		     : "+r"(acc) : "r"(a) : "r1")
#define JSET32(acc, a, b)                                                                \
	asm volatile("%0 <<= 1\n r1 = %1\n r2 = %2\n" RAW(0x4e, 1, 2, 1, 0) "%0 |= 1"  \
		     : "+r"(acc) : "r"(a), "r"(b) : "r1", "r2")
#define JSET32K(acc, a, k)                                                               \
	asm volatile("%0 <<= 1\n r1 = %1\n" RAW(0x46, 1, 0, 1, k) "%0 |= 1"             \
		     : "+r"(acc) : "r"(a) : "r1")

/* 64-bit rotate left by a constant (three ALU64 instructions). */
static __always_inline u64 rotl64(u64 x, int n)
{
	return (x << n) | (x >> (64 - n));
}

/* Results: programs collect them in a stack array (8-byte stack writes and
 * reads at offsets beyond the first 64 bytes), then FLUSH copies as many as
 * fit into the frame from offset 14 on and stores an order-sensitive fold of
 * all of them at offset 0 (so that frames of any length see every result).
 * The fold starts from the frame's first 8 bytes: a value the verifier cannot
 * know, so that it never needs the results' exact values (a program whose
 * results are constants on every path, e.g. jump outcomes, would otherwise
 * make it walk every path separately). */
#define RESULTS(n) volatile u64 res[n]
#define FLUSH(d, end, n, fold_out)                                         \
	do {                                                               \
		u64 _h = LD64(d);                                          \
		_Pragma("clang loop unroll(full)")                         \
		for (int _i = 0; _i < (n); _i++) {                          \
			u64 _v = res[_i];                                  \
			_h = rotl64(_h, 7) ^ _v;                           \
			if ((d) + 14 + 8 * _i + 8 <= (end))                \
				ST64((d) + 14 + 8 * _i, _v);                 \
		}                                                          \
		ST64((d), _h);                                             \
		(fold_out) = _h;                                           \
	} while (0)

/* A verdict that depends on the data: 11/16 PASS or TX, DROP, ABORTED, and
 * three out-of-range values (the card aborts those). */
static __always_inline int verdict(u64 x)
{
	u32 v = (u32)(x ^ (x >> 32));

	v = (v ^ (v >> 16) ^ (v >> 8)) & 15;
	if (v < 11)
		return XDP_PASS + (v & 1);
	if (v == 11)
		return XDP_DROP;
	if (v == 12)
		return XDP_ABORTED;
	return v - 8;
}

#endif
