/*
 * brk: the program break (brk(2)). The raw syscall returns the new break
 * on success and the unchanged current break on failure.
 * - brk(0) returns the current break (page aligned or not, > 0)
 * - growing by 1 MiB succeeds; the new memory is zeroed and writable
 * - shrinking back succeeds; a request below the initial break fails
 *   (returns the current break)
 */
#include "t.h"

int main(void)
{
	unsigned long cur = syscall(SYS_brk, 0);
	CHECK("brk(0) > 0", cur > 0);
	CHECK("brk(0) stable", (unsigned long)syscall(SYS_brk, 0) == cur);
	unsigned long want = cur + (1 << 20);
	unsigned long got = syscall(SYS_brk, want);
	CHECK("grow by 1 MiB", got == want);
	volatile char *p = (char *)cur;
	int zero = 1;
	for (unsigned long i = 0; i < (1 << 20); i += 4096)
		zero &= p[i] == 0;
	CHECK("new heap zeroed", zero);
	for (unsigned long i = 0; i < (1 << 20); i += 4096)
		p[i] = (char)(i >> 12);
	CHECK("new heap writable", p[4096 * 7] == 7 && p[(1 << 20) - 4096] == (char)255);
	got = syscall(SYS_brk, cur + 4096);
	CHECK("shrink to 1 page", got == cur + 4096);
	CHECK("kept page intact", p[0] == 0);
	got = syscall(SYS_brk, cur + (1 << 20));
	CHECK("regrow", got == cur + (1 << 20));
	CHECK("regrown pages zeroed again", p[4096 * 7] == 0);
	got = syscall(SYS_brk, 4096);
	CHECK("brk below start fails (returns current)", got == cur + (1 << 20));
	got = syscall(SYS_brk, cur);
	CHECK("shrink back to start", got == cur);
	void *s = sbrk(0);
	CHECK("sbrk(0) agrees", (unsigned long)s == cur);
	return t_done();
}
