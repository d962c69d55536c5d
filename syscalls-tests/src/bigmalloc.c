/*
 * bigmalloc: a 1 GiB malloc(3) (an mmap(2) of 1 GiB, lazily populated):
 * touch every 4096th byte of the first and last 64 MiB, then verify what
 * was written; untouched bytes in between read as zero.
 */
#include "t.h"

#define GIB (1UL << 30)
#define MIB64 (64UL << 20)

int main(void)
{
	unsigned char *p = malloc(GIB);
	CHECK("malloc 1 GiB", p != NULL);
	if (!p)
		return t_done();
	for (unsigned long i = 0; i < MIB64; i += 4096) {
		p[i] = (unsigned char)(i >> 12);
		p[GIB - MIB64 + i] = (unsigned char)~(i >> 12);
	}
	int ok = 1;
	for (unsigned long i = 0; i < MIB64; i += 4096) {
		ok &= p[i] == (unsigned char)(i >> 12);
		ok &= p[GIB - MIB64 + i] == (unsigned char)~(i >> 12);
	}
	CHECK("first and last 64 MiB hold what was written", ok);
	ok = 1;
	for (unsigned long i = 1; i < MIB64; i += 4096)
		ok &= p[i] == 0;
	CHECK("untouched bytes are zero", ok);
	CHECK("middle reads zero", p[GIB / 2] == 0);
	free(p);
	CHECK("malloc again after free", (p = malloc(GIB)) != NULL);
	free(p);
	return t_done();
}
