/*
 * mmap_anon: anonymous mappings (mmap(2), munmap(2)).
 * - MAP_PRIVATE|MAP_ANONYMOUS memory is zeroed, page aligned, writable
 * - MAP_SHARED|MAP_ANONYMOUS works too
 * - MAP_FIXED replaces part of an existing mapping (contents zeroed there)
 * - MAP_FIXED_NOREPLACE over an existing mapping -> EEXIST; over a free
 *   range it succeeds at exactly that address
 * - flags without MAP_PRIVATE/MAP_SHARED -> EINVAL; length 0 -> EINVAL;
 *   unaligned MAP_FIXED address -> EINVAL; non-anonymous with fd -1 -> EBADF
 * - munmap of an unaligned address -> EINVAL; munmap of an unmapped range
 *   succeeds
 * - mincore on an unmapped range -> ENOMEM
 */
#include "t.h"
#include <sys/mman.h>

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char vec[4];

	char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("mmap private anon", p != MAP_FAILED);
	CHECK("page aligned", ((unsigned long)p & (pg - 1)) == 0);
	int zero = 1;
	for (long i = 0; i < 4 * pg; i++)
		zero &= p[i] == 0;
	CHECK("zero filled", zero);
	memset(p, 0xab, 4 * pg);
	CHECK("writable", (unsigned char)p[4 * pg - 1] == 0xab);

	char *q = mmap(p + pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK("MAP_FIXED at given address", q == p + pg);
	CHECK("replaced page zeroed", q[0] == 0 && q[pg - 1] == 0);
	CHECK("neighbours intact", (unsigned char)p[0] == 0xab && (unsigned char)p[2 * pg] == 0xab);
	void *r;
	CHECK("MAP_FIXED_NOREPLACE over mapping -> EEXIST",
	      mmap(p + 2 * pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED &&
		      errno == EEXIST);
	SYSOK("munmap last page", munmap(p + 3 * pg, pg));
	EXPECT_ERRNO("mincore unmapped -> ENOMEM", mincore(p + 3 * pg, pg, vec), ENOMEM);
	SYSOK("mincore mapped", mincore(p, pg, vec));
	r = mmap(p + 3 * pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK("MAP_FIXED_NOREPLACE into hole", r == p + 3 * pg);
	SYSOK("munmap all", munmap(p, 4 * pg));
	SYSOK("munmap again (unmapped is fine)", munmap(p, 4 * pg));

	char *s = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK("mmap shared anon", s != MAP_FAILED);
	s[0] = 1;
	CHECK("shared anon writable", s[0] == 1 && s[1] == 0);
	munmap(s, pg);

	CHECK("neither PRIVATE nor SHARED -> EINVAL",
	      mmap(NULL, pg, PROT_READ, MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL);
	CHECK("length 0 -> EINVAL",
	      mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL);
	CHECK("unaligned MAP_FIXED -> EINVAL",
	      mmap((void *)0x10000001, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED && errno == EINVAL);
	CHECK("file mapping with fd -1 -> EBADF",
	      mmap(NULL, pg, PROT_READ, MAP_PRIVATE, -1, 0) == MAP_FAILED && errno == EBADF);
	CHECK("unaligned offset -> EINVAL",
	      mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1) == MAP_FAILED && errno == EINVAL);
	EXPECT_ERRNO("munmap unaligned -> EINVAL", munmap((void *)0x10000001, pg), EINVAL);
	EXPECT_ERRNO("munmap length 0 -> EINVAL", munmap((void *)0x10000000, 0), EINVAL);
	return t_done();
}
