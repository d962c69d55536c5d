/*
 * mremap: mremap(2).
 * - shrinking in place keeps the address and contents
 * - growing with MREMAP_MAYMOVE keeps contents (the address may change);
 *   the new tail is zeroed
 * - growing without MREMAP_MAYMOVE when the next page is mapped -> ENOMEM
 * - MREMAP_FIXED|MREMAP_MAYMOVE moves to the requested address and the
 *   old range becomes unmapped
 * - unaligned old address -> EINVAL; new size 0 -> EINVAL;
 *   MREMAP_FIXED without MREMAP_MAYMOVE -> EINVAL
 */
#include "t.h"
#include <sys/mman.h>

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char vec[1];
	char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	MUST("mmap", p == MAP_FAILED ? -1 : 0);
	for (long i = 0; i < 4 * pg; i++)
		p[i] = (char)(i % 251);
	char *q = mremap(p, 4 * pg, 2 * pg, 0);
	CHECK("shrink in place", q == p);
	CHECK("contents kept", q[pg + 5] == (char)((pg + 5) % 251));
	EXPECT_ERRNO("shrunk tail unmapped", mincore(p + 3 * pg, pg, vec), ENOMEM);

	/* pin the page after the mapping so it cannot grow in place */
	char *pin = mmap(p + 2 * pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK("pin next page", pin == p + 2 * pg);
	CHECK("grow without MAYMOVE -> ENOMEM",
	      mremap(p, 2 * pg, 8 * pg, 0) == MAP_FAILED && errno == ENOMEM);
	char *g = mremap(p, 2 * pg, 8 * pg, MREMAP_MAYMOVE);
	CHECK("grow with MAYMOVE", g != MAP_FAILED);
	CHECK("moved away from pinned page", g != p);
	int ok = 1;
	for (long i = 0; i < 2 * pg; i++)
		ok &= g[i] == (char)(i % 251);
	CHECK("contents moved", ok);
	ok = 1;
	for (long i = 2 * pg; i < 8 * pg; i++)
		ok &= g[i] == 0;
	CHECK("new tail zeroed", ok);
	g[8 * pg - 1] = 7;
	CHECK("new tail writable", g[8 * pg - 1] == 7);
	munmap(pin, pg);

	char *dst = mmap(NULL, 16 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(dst, 16 * pg);
	char *f = mremap(g, 8 * pg, 8 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 4 * pg);
	CHECK("MREMAP_FIXED to requested address", f == dst + 4 * pg);
	CHECK("contents follow", f[pg + 5] == (char)((pg + 5) % 251) && f[8 * pg - 1] == 7);
	EXPECT_ERRNO("old range unmapped", mincore(g, pg, vec), ENOMEM);
	CHECK("unaligned -> EINVAL", mremap(f + 1, pg, 2 * pg, MREMAP_MAYMOVE) == MAP_FAILED && errno == EINVAL);
	CHECK("new size 0 -> EINVAL", mremap(f, pg, 0, MREMAP_MAYMOVE) == MAP_FAILED && errno == EINVAL);
	CHECK("FIXED without MAYMOVE -> EINVAL",
	      mremap(f, pg, pg, MREMAP_FIXED, dst) == MAP_FAILED && errno == EINVAL);
	CHECK("unknown flag -> EINVAL", mremap(f, pg, pg, 0x100) == MAP_FAILED && errno == EINVAL);
	munmap(f, 8 * pg);
	return t_done();
}
