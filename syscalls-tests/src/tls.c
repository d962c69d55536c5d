/*
 * tls: thread pointer and tid address (arch_prctl(2), set_tid_address(2)).
 * - arch_prctl(ARCH_GET_FS) equals the thread pointer glibc installed
 *   (the TCB self pointer stored at %fs:0) and __thread variables live just
 *   below it (x86-64 TLS variant II)
 * - ARCH_SET_FS to the same value keeps TLS working
 * - unknown code -> EINVAL; ARCH_GET_FS to a wild pointer -> EFAULT
 * - set_tid_address returns the caller's tid
 */
#include "t.h"
#include <asm/prctl.h>

static __thread int tlsvar = 42;

int main(void)
{
	unsigned long fs = 0, self;
	__asm__ volatile("mov %%fs:0, %0" : "=r"(self));
	SYSOK("arch_prctl ARCH_GET_FS", syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
	CHECK("FS base == TCB self pointer", fs == self && fs != 0);
	unsigned long v = (unsigned long)&tlsvar;
	CHECK("__thread var just below FS base", v < fs && fs - v < 65536);
	CHECK("__thread var initialised", tlsvar == 42);
	SYSOK("ARCH_SET_FS same value", syscall(SYS_arch_prctl, ARCH_SET_FS, fs));
	tlsvar++;
	CHECK("TLS still works", tlsvar == 43 && errno == 0);
	EXPECT_ERRNO("unknown code -> EINVAL", syscall(SYS_arch_prctl, 0x9999, &fs), EINVAL);
	EXPECT_ERRNO("ARCH_GET_FS wild pointer -> EFAULT", syscall(SYS_arch_prctl, ARCH_GET_FS, (void *)1), EFAULT);
	static int ctid;
	long tid = syscall(SYS_set_tid_address, &ctid);
	CHECK("set_tid_address returns tid", tid == syscall(SYS_gettid) && tid > 0);
	return t_done();
}
