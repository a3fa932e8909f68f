// Copies inside the packet as load/store pairs of the same width (the nfp
// JIT gathers such runs into one memory-to-memory transfer of up to 128
// bytes): ascending and descending runs of 8-, 4- and 1-byte pairs, a run
// longer than 128 bytes, and an overlapping run (must not be gathered).
#include "diff.h"

SEC("xdp")
int pkt_copy(struct xdp_md *ctx)
{
	u8 *d = PKT(ctx), *end = PKT_END(ctx);
	u64 h;

	if (d + 60 > end)
		return XDP_DROP;
	/* 6-byte MAC swap through byte pairs (clang's memcpy style) */
	asm volatile(
		"r1 = *(u8 *)(%0 + 0)\n *(u8 *)(%0 + 14) = r1\n"
		"r1 = *(u8 *)(%0 + 1)\n *(u8 *)(%0 + 15) = r1\n"
		"r1 = *(u8 *)(%0 + 2)\n *(u8 *)(%0 + 16) = r1\n"
		"r1 = *(u8 *)(%0 + 3)\n *(u8 *)(%0 + 17) = r1\n"
		"r1 = *(u8 *)(%0 + 4)\n *(u8 *)(%0 + 18) = r1\n"
		"r1 = *(u8 *)(%0 + 5)\n *(u8 *)(%0 + 19) = r1\n"
		:: "r"(d) : "r1", "memory");
	if (d + 300 > end) {
		/* descending 4-byte run */
		asm volatile(
			"r1 = *(u32 *)(%0 + 48)\n *(u32 *)(%0 + 32) = r1\n"
			"r1 = *(u32 *)(%0 + 44)\n *(u32 *)(%0 + 28) = r1\n"
			"r1 = *(u32 *)(%0 + 40)\n *(u32 *)(%0 + 24) = r1\n"
			:: "r"(d) : "r1", "memory");
		h = LD64(d + 20) ^ LD64(d + 52);
		ST64(d + 6, h);
		return verdict(h);
	}
	/* ascending 8-byte run, 40 bytes forward */
	asm volatile(
		"r1 = *(u64 *)(%0 + 20)\n *(u64 *)(%0 + 100) = r1\n"
		"r1 = *(u64 *)(%0 + 28)\n *(u64 *)(%0 + 108) = r1\n"
		"r1 = *(u64 *)(%0 + 36)\n *(u64 *)(%0 + 116) = r1\n"
		"r1 = *(u64 *)(%0 + 44)\n *(u64 *)(%0 + 124) = r1\n"
		"r1 = *(u64 *)(%0 + 52)\n *(u64 *)(%0 + 132) = r1\n"
		:: "r"(d) : "r1", "memory");
	/* descending 4-byte run */
	asm volatile(
		"r1 = *(u32 *)(%0 + 160)\n *(u32 *)(%0 + 63) = r1\n"
		"r1 = *(u32 *)(%0 + 156)\n *(u32 *)(%0 + 59) = r1\n"
		"r1 = *(u32 *)(%0 + 152)\n *(u32 *)(%0 + 55) = r1\n"
		"r1 = *(u32 *)(%0 + 148)\n *(u32 *)(%0 + 51) = r1\n"
		:: "r"(d) : "r1", "memory");
	/* 17 x 8 = 136 bytes: longer than one transfer */
	asm volatile(
		"r1 = *(u64 *)(%0 + 150)\n *(u64 *)(%0 + 160) = r1\n"
		"r1 = *(u64 *)(%0 + 142)\n *(u64 *)(%0 + 152) = r1\n"
		"r1 = *(u64 *)(%0 + 134)\n *(u64 *)(%0 + 144) = r1\n"
		"r1 = *(u64 *)(%0 + 126)\n *(u64 *)(%0 + 136) = r1\n"
		"r1 = *(u64 *)(%0 + 118)\n *(u64 *)(%0 + 128) = r1\n"
		"r1 = *(u64 *)(%0 + 110)\n *(u64 *)(%0 + 120) = r1\n"
		"r1 = *(u64 *)(%0 + 102)\n *(u64 *)(%0 + 112) = r1\n"
		"r1 = *(u64 *)(%0 + 94)\n *(u64 *)(%0 + 104) = r1\n"
		"r1 = *(u64 *)(%0 + 86)\n *(u64 *)(%0 + 96) = r1\n"
		"r1 = *(u64 *)(%0 + 78)\n *(u64 *)(%0 + 88) = r1\n"
		"r1 = *(u64 *)(%0 + 70)\n *(u64 *)(%0 + 80) = r1\n"
		"r1 = *(u64 *)(%0 + 62)\n *(u64 *)(%0 + 72) = r1\n"
		"r1 = *(u64 *)(%0 + 54)\n *(u64 *)(%0 + 64) = r1\n"
		"r1 = *(u64 *)(%0 + 46)\n *(u64 *)(%0 + 56) = r1\n"
		"r1 = *(u64 *)(%0 + 38)\n *(u64 *)(%0 + 48) = r1\n"
		"r1 = *(u64 *)(%0 + 30)\n *(u64 *)(%0 + 40) = r1\n"
		"r1 = *(u64 *)(%0 + 22)\n *(u64 *)(%0 + 32) = r1\n"
		:: "r"(d) : "r1", "memory");
	/* overlapping ascending run: each load sees the previous store */
	asm volatile(
		"r1 = *(u32 *)(%0 + 200)\n *(u32 *)(%0 + 202) = r1\n"
		"r1 = *(u32 *)(%0 + 204)\n *(u32 *)(%0 + 206) = r1\n"
		"r1 = *(u32 *)(%0 + 208)\n *(u32 *)(%0 + 210) = r1\n"
		"r1 = *(u32 *)(%0 + 212)\n *(u32 *)(%0 + 214) = r1\n"
		:: "r"(d) : "r1", "memory");
	/* 2-byte ascending run to the end of the checked range */
	asm volatile(
		"r1 = *(u16 *)(%0 + 240)\n *(u16 *)(%0 + 290) = r1\n"
		"r1 = *(u16 *)(%0 + 242)\n *(u16 *)(%0 + 292) = r1\n"
		"r1 = *(u16 *)(%0 + 244)\n *(u16 *)(%0 + 294) = r1\n"
		"r1 = *(u16 *)(%0 + 246)\n *(u16 *)(%0 + 296) = r1\n"
		"r1 = *(u16 *)(%0 + 248)\n *(u16 *)(%0 + 298) = r1\n"
		:: "r"(d) : "r1", "memory");
	h = LD64(d + 100) ^ LD64(d + 160) ^ LD64(d + 210) ^ LD64(d + 292);
	ST64(d + 6, h);
	return verdict(h);
}

LICENSE;
