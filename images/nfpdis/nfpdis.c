/* nfpdis: the binutils NFP disassembler (libopcodes' print_insn_nfp) over a
 * raw image of little-endian 64-bit ustore words, one line per word:
 *
 *   nfpdis IMAGE [BASE_WORD_ADDRESS] [ctx4|ctx8]
 *
 * A test oracle for the project's own disassembler (fp::disasm): built by
 * images/nfpdis.sh from Debian's binutils-source, never shipped. */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bfd.h"
#include "dis-asm.h"

extern int print_insn_nfp(bfd_vma, struct disassemble_info *);

static int styled(void *stream, enum disassembler_style style, const char *fmt, ...)
{
	va_list ap;
	int n;

	(void)style;
	va_start(ap, fmt);
	n = vfprintf(stream, fmt, ap);
	va_end(ap);
	return n;
}

int main(int argc, char **argv)
{
	struct disassemble_info info;
	unsigned long base = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;
	unsigned char *image;
	long size, i;
	FILE *f;

	if (argc < 2) {
		fprintf(stderr, "usage: %s IMAGE [BASE] [ctx4|ctx8]\n", argv[0]);
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		perror(argv[1]);
		return 1;
	}
	image = malloc(size + 8);
	if (!image || fread(image, 1, size, f) != (size_t)size) {
		perror(argv[1]);
		return 1;
	}
	fclose(f);
	init_disassemble_info(&info, stdout, (fprintf_ftype)fprintf, styled);
	info.arch = bfd_arch_nfp;
	info.mach = bfd_mach_nfp6000;
	info.disassembler_options = argc > 3 ? argv[3] : "ctx4";
	info.buffer_vma = base * 8;
	info.buffer = image;
	info.buffer_length = size;
	info.read_memory_func = buffer_read_memory;
	disassemble_init_for_target(&info);
	for (i = 0; i + 8 <= size; i += 8) {
		unsigned long long w = 0;
		int k;

		for (k = 7; k >= 0; k--)
			w = w << 8 | image[i + k];
		/* print_insn_nfp prints the ".ADDRESS" column itself. */
		printf("%5lu: %016llx  ", base + i / 8, w);
		print_insn_nfp(base * 8 + i, &info);
		printf("\n");
	}
	return 0;
}
