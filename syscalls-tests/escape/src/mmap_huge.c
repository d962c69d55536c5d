/* Huge and overlapping mappings: the address space ends below the
 * platform's stub page, which MAP_FIXED cannot replace; huge requests fail
 * with ENOMEM; mapping over the app's own code only hurts the app. */
#include "e.h"
#include <sys/mman.h>

int main(void)
{
	EXPECT_ERRNO("mmap 128 TiB", (long)mmap(NULL, 1UL << 47, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM);
	EXPECT_ERRNO("mmap 2^63", (long)mmap(NULL, 1UL << 63, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM);
	/* The top of user space: the ptrace platform's stub page lives there. */
	void *top = (void *)0x7ffffffe0000UL;
	EXPECT_ERRNO("MAP_FIXED over the top of user space", (long)mmap(top, 0x1f000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), ENOMEM);
	EXPECT_ERRNO("MAP_FIXED beyond user space", (long)mmap((void *)0x800000000000UL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), ENOMEM);
	CHECK("munmap of the top is harmless", munmap(top, 0x1f000) == 0 || errno == EINVAL);
	/* Reserve a lot without touching it: fine, lazily backed. */
	char *big = mmap(NULL, 64UL << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK("64 GiB PROT_NONE reservation", big != MAP_FAILED);
	/* Overlap and remap it piecewise. */
	char *mid = mmap(big + (1UL << 30), 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK("MAP_FIXED inside the reservation", mid == big + (1UL << 30));
	if (mid != MAP_FAILED)
		mid[0] = 1;
	EXPECT_ERRNO("mremap to 2^62", (long)mremap(mid, 1 << 20, 1UL << 62, MREMAP_MAYMOVE), ENOMEM);
	CHECK("munmap the reservation", munmap(big, 64UL << 30) == 0);
	CHECK("the process still works", getpid() > 0);
	return t_done();
}
